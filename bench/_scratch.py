"""Scratch folders for benchmark stores: removed when the benchmark process ends."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from mltrace_otel import state


def scratch_dir(name: str) -> Path:
    """A new folder under the temporary directory, removed at exit once the store in it
    is closed (a 10^6-run store is ~350 MB)."""
    path = Path(tempfile.mkdtemp(prefix=f"mltrace-bench-{name}-"))
    atexit.register(_remove, path)
    return path


def _remove(path: Path) -> None:
    state.close()  # exit functions run newest first: this one before the store's own
    shutil.rmtree(path, ignore_errors=True)
