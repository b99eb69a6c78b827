"""``mltrace run --name NAME -- CMD …``: one pipeline trace around a shell command (cron, Make,
an Airflow BashOperator). Every component run of CMD and of its child processes belongs to
the trace; the command's exit code is passed through and a non-zero one marks the pipeline
span ERROR. SIGTERM and SIGHUP are forwarded to the command; SIGINT (Ctrl-C) reaches it from
the terminal directly, so this process only waits for it to finish.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import click

import mltrace_otel as mltrace
from mltrace_otel import config, semconv, state
from mltrace_otel.cli.options import store_options

_FORWARDED = (signal.SIGTERM, signal.SIGHUP)


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--name", required=True, help="Pipeline name (the root span's name).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@store_options
def run(name: str, command: tuple[str, ...]) -> None:
    """Run COMMAND as one pipeline trace; exits with COMMAND's exit code. With --url or
    --address, the pipeline and COMMAND's runs are logged on that ClickHouse server."""
    active = state.settings()
    if active.backend == "clickhouse" and active.url:  # COMMAND's processes log there too
        os.environ[config.ENV_BACKEND] = "clickhouse"
        os.environ[config.ENV_CLICKHOUSE_URL] = active.url
    with mltrace.pipeline(name) as pipeline:
        pipeline.set_attribute(semconv.PROCESS_EXECUTABLE_NAME, os.path.basename(command[0]))
        code = _run(command)
        pipeline.set_attribute(semconv.PROCESS_EXIT_CODE, code)
        if code != 0:
            pipeline.fail(f"{os.path.basename(command[0])} exited with code {code}")
    mltrace.flush()  # at most one export timeout; undelivered runs wait in the outbox
    sys.exit(code)


def _run(command: tuple[str, ...]) -> int:
    """Run ``command``, forwarding termination signals; its exit code (128+N if killed)."""
    import subprocess  # only here: 5 ms of every other command's start

    children: list[subprocess.Popen[bytes]] = []
    received: list[int] = []

    def forward(number: int, _frame: FrameType | None) -> None:
        for child in children:
            child.send_signal(number)
        if not children:  # arrived before the command started: pass it on once it has
            received.append(number)

    # Handlers first, so a signal sent as soon as the command runs is never missed.
    previous = {number: signal.signal(number, forward) for number in _FORWARDED}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        try:
            children.append(subprocess.Popen(command))
        except OSError as error:
            click.echo(f"Error: cannot run {command[0]}: {error.strerror}", err=True)
            return 127 if isinstance(error, FileNotFoundError) else 126
        for number in received:
            children[0].send_signal(number)
        code = children[0].wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 128 - code if code < 0 else code
