"""A CLI command run with its output captured: what ``mltrace serve`` does for the
``mltrace`` script of a local process (``cli.launch``), on the server's open store."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
from collections.abc import Callable

import click
from rich.console import Console

from mltrace_otel.cli import render
from mltrace_otel.secrets import redact

logger = logging.getLogger("mltrace_otel.server")

def runner_for(
    group: click.Command,
) -> Callable[[list[str], bool, int | None, bool], tuple[int, str, str]]:
    """What the server calls to run a command of ``group`` (the ``mltrace`` group)."""
    return functools.partial(run_captured, group)


def run_captured(group: click.Command, args: list[str], terminal: bool, width: int | None,
                 no_color: bool) -> tuple[int, str, str]:
    """Run ``mltrace ARGS``; its exit code, stdout and stderr. Not thread-safe (it swaps
    ``sys.stdout``): the server runs one command at a time, on its chDB thread."""
    stdout, stderr = io.StringIO(), io.StringIO()
    printing = render.console
    render.console = Console(file=stdout, highlight=False, force_terminal=terminal,
                             no_color=no_color, width=width if terminal else render.PIPED_WIDTH)
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            group.main(args=args, prog_name="mltrace", standalone_mode=True)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Exception as error:  # a bug: one line for the caller, the traceback in the log
        logger.exception("mltrace serve: command %s failed", args[0])
        stderr.write(redact(f"Error: {type(error).__name__}: {error}") + "\n")
        code = 1
    finally:
        render.console = printing
    return code, stdout.getvalue(), stderr.getvalue()
