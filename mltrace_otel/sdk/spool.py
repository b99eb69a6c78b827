"""The spool: how pipeline processes hand finished spans to the embedded store.

A pipeline process never opens chDB. Its span exporter writes each batch of finished spans
to a temporary file and publishes it with an atomic rename as ``<ns>-<pid>-<random>.arrow``
(``otel_traces`` rows as an Arrow IPC file). Whoever queries the store first claims the
published files by renaming them into a claim folder, inserts them, and deletes them. A file
is either published whole or not at all, so a crash loses nothing that was flushed; a crash
between insert and delete re-inserts a batch, which the queries tolerate (they deduplicate
runs by span id).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("mltrace_otel")

SUFFIX = ".arrow"
CLAIMED = "claimed"


def publish(spool_dir: Path, payload: bytes) -> Path:
    """Write ``payload`` as a new spool file, visible to readers only once complete."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    temporary = spool_dir / f".{name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(payload)
    final = spool_dir / f"{name}{SUFFIX}"
    os.replace(temporary, final)
    return final


def claim(spool_dir: Path) -> Path | None:
    """Move every published spool file into a fresh claim folder and return that folder.

    Files left in older claim folders (by a reader that crashed) are claimed again.
    Returns ``None`` when there is nothing to ingest.
    """
    try:
        entries = list(os.scandir(spool_dir))
    except FileNotFoundError:
        return None
    claim_root = spool_dir / CLAIMED
    pending = [entry.path for entry in entries if entry.name.endswith(SUFFIX)]
    if claim_root.is_dir():
        for leftover in claim_root.iterdir():
            pending.extend(str(path) for path in leftover.glob(f"*{SUFFIX}"))
            _remove_if_empty(leftover)
    if not pending:
        return None
    folder = claim_root / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    for path in pending:
        try:
            os.replace(path, folder / os.path.basename(path))
        except FileNotFoundError:  # another reader claimed it first
            continue
    return folder


def release(folder: Path) -> None:
    """Delete a claim folder whose files were inserted."""
    for path in folder.glob(f"*{SUFFIX}"):
        path.unlink(missing_ok=True)
    _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


class SpoolSpanExporter(SpanExporter):
    """OpenTelemetry span exporter that publishes batches of spans to the spool."""

    def __init__(self, spool_dir: Path) -> None:
        self._spool_dir = spool_dir

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            from mltrace_otel.rows import encode_arrow  # pyarrow: off the import path

            publish(self._spool_dir, encode_arrow(spans))
        except Exception as error:  # never raise into the pipeline
            logger.warning(
                "mltrace: could not write %d run(s) to %s: %s", len(spans), self._spool_dir, error
            )
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        return None
