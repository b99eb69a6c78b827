"""The spool: how pipeline processes hand finished spans to the embedded store.

A pipeline process never opens chDB. Its span exporter writes each batch of finished spans
to a temporary file, fsyncs it, publishes it with an atomic rename as
``<ns>-<pid>-<random>.arrow`` (``otel_traces`` rows as an Arrow IPC file) and fsyncs the
folder, so after a power loss a file is either whole or absent. A write that fails (a full
disk) removes its temporary file and keeps the batch in memory; it is retried on the next
export and on every flush while the process lives, and a warning names the runs still
undelivered at exit.

The exporter is ``spool_exporter``; this module is the folder protocol both sides share and
imports nothing heavy (the store opens it on every query). Whoever queries the store claims
the published files by renaming them into a claim folder, inserts them, and deletes them
(``mltrace_otel.store.local``). A file that is not a spool batch (empty, truncated, foreign)
is moved to ``quarantine/`` instead.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Final, NamedTuple

SUFFIX: Final = ".arrow"
CLAIMED: Final = "claimed"
QUARANTINE: Final = "quarantine"

ABANDONED_AFTER_SECONDS: Final = 600
"""Age after which a temporary spool file of a writer that is gone is removed."""

MAX_PENDING_BYTES: Final = 256 << 20
"""Most bytes of unwritten batches a process keeps in memory for retry (oldest dropped)."""


def publish(spool_dir: Path, payload: bytes) -> Path:
    """Write ``payload`` as a new spool file, visible to readers only once complete and durable.

    On any failure the temporary file is removed and the error is raised.
    """
    spool_dir.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    temporary = spool_dir / f".{name}.tmp"
    final = spool_dir / f"{name}{SUFFIX}"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(descriptor, view):]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(spool_dir)
    return final


def fsync_directory(folder: Path) -> None:
    """Make renames and creations in ``folder`` durable (best effort where unsupported)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class Claim(NamedTuple):
    """A claim folder, and whether an earlier reader left it (its rows may be in the store)."""

    folder: Path
    leftover: bool


def claim(spool_dir: Path, writer_alive: Callable[[int], bool] | None = None) -> list[Claim]:
    """Move published spool files into a fresh claim folder; return it after any leftovers.

    Folders left by a reader that stopped before releasing them come first, unchanged: their
    files may already be in the store, so they must be ingested without duplicating rows.
    Returns an empty list when there is nothing to ingest. With ``writer_alive``, temporary
    files of writers that died while publishing (killed mid-write: never a batch) are removed.
    """
    try:
        entries = list(os.scandir(spool_dir))
    except FileNotFoundError:
        return []
    if writer_alive is not None:
        _remove_abandoned(entries, writer_alive)
    claim_root = spool_dir / CLAIMED
    claims: list[Claim] = []
    if claim_root.is_dir():
        for leftover in sorted(claim_root.iterdir()):
            if any(leftover.glob(f"*{SUFFIX}")):
                claims.append(Claim(leftover, leftover=True))
            else:
                _remove_if_empty(leftover)
    pending = [entry.path for entry in entries if entry.name.endswith(SUFFIX)]
    if pending:
        folder = claim_root / f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True)
        for path in pending:
            try:
                os.replace(path, folder / os.path.basename(path))
            except FileNotFoundError:  # another reader claimed it first
                continue
        claims.append(Claim(folder, leftover=False))
    return claims


def _remove_abandoned(entries: list[os.DirEntry[str]], alive: Callable[[int], bool]) -> None:
    """Remove ``.<ns>-<pid>-<random>.tmp`` files begun over ``ABANDONED_AFTER_SECONDS`` ago
    whose writer process is gone (the age too: a writer in another pid namespace, sharing the
    folder, has a pid this process cannot see)."""
    oldest = time.time_ns() - ABANDONED_AFTER_SECONDS * 10**9
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
            continue
        fields = entry.name[1:-4].split("-")
        if (len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit()
                and int(fields[0]) < oldest and not alive(int(fields[1]))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def quarantine(spool_dir: Path, path: Path) -> Path:
    """Move a file that cannot be ingested to ``quarantine/`` beside the spool; its new path."""
    folder = spool_dir / QUARANTINE
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{uuid.uuid4().hex[:8]}{path.suffix}"
    os.replace(path, target)
    return target


def release(folder: Path) -> None:
    """Delete a claim folder whose files were inserted."""
    for path in folder.glob(f"*{SUFFIX}"):
        path.unlink(missing_ok=True)
    _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
