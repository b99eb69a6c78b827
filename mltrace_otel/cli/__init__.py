"""The ``mltrace`` command line (click): every query and the demo, human-readable or JSON."""

from mltrace_otel.cli.main import main

__all__ = ["main"]
