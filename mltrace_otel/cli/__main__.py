"""``python -m mltrace_otel.cli``: the same as the ``mltrace`` command."""

from mltrace_otel.cli.launch import run

run()
