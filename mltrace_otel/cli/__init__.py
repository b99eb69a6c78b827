"""The ``mltrace`` command line (click): every query and the demo, human-readable or JSON.

``main`` is the click group (``commands``); the ``mltrace`` script starts at ``launch.run``,
which hands store commands to a running ``mltrace serve`` before importing click.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from mltrace_otel.cli.commands import main

        return main
    raise AttributeError(f"module 'mltrace_otel.cli' has no attribute {name!r}")
