"""The span exporter of the ``local`` backend: batches of finished spans, encoded as
``otel_traces`` rows, published to the spool (``spool``) for the embedded store to ingest."""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mltrace_otel.sdk.spool import MAX_PENDING_BYTES, publish

logger = logging.getLogger("mltrace_otel")


class SpoolSpanExporter(SpanExporter):
    """OpenTelemetry span exporter that publishes batches of spans to the spool.

    Batches that could not be written (a full disk) stay in memory, bounded by
    ``MAX_PENDING_BYTES``, and are written by the next export or flush; ``force_flush``
    returns False while any are pending.
    """

    def __init__(self, spool_dir: Path) -> None:
        self._spool_dir = spool_dir
        self._pending: list[tuple[bytes, int]] = []
        self._mutex = threading.Lock()
        self._failing = False
        self._last_error = ""
        self._finished = False
        atexit.register(self._at_exit)

    @property
    def pending_runs(self) -> int:
        """Runs encoded but not yet written to the spool."""
        with self._mutex:
            return sum(count for _, count in self._pending)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            from mltrace_otel.rows import encode_arrow  # pyarrow: off the import path

            payload = encode_arrow(spans)
        except Exception as error:  # never raise into the pipeline
            logger.warning("mltrace: could not encode %d run(s): %s", len(spans), error)
            return SpanExportResult.FAILURE
        with self._mutex:
            self._pending.append((payload, len(spans)))
            self._bound_pending()
            written = self._write_pending()
        return SpanExportResult.SUCCESS if written else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        with self._mutex:
            return self._write_pending()

    def shutdown(self) -> None:
        self._at_exit()

    # -- internals -------------------------------------------------------------------------
    def _write_pending(self) -> bool:
        """Write pending batches oldest first; True when none is left. Holds ``_mutex``."""
        while self._pending:
            payload = self._pending[0][0]
            try:
                publish(self._spool_dir, payload)
            except Exception as error:  # never raise into the pipeline
                self._last_error = str(error)
                if not self._failing:
                    self._failing = True
                    logger.warning(
                        "mltrace: could not write %d run(s) to the spool %s (%s); keeping "
                        "them in memory and retrying", self._pending_count(), self._spool_dir,
                        error,
                    )
                return False
            self._pending.pop(0)
        if self._failing:
            self._failing = False
            logger.info("mltrace: spool %s writable again; pending runs written", self._spool_dir)
        return True

    def _pending_count(self) -> int:
        return sum(count for _, count in self._pending)

    def _bound_pending(self) -> None:
        total = sum(len(payload) for payload, _ in self._pending)
        dropped = 0
        while total > MAX_PENDING_BYTES and len(self._pending) > 1:
            payload, count = self._pending.pop(0)
            total -= len(payload)
            dropped += count
        if dropped:
            logger.warning(
                "mltrace: %d run(s) dropped: more than %d MiB could not be written to %s",
                dropped, MAX_PENDING_BYTES >> 20, self._spool_dir,
            )

    def _at_exit(self) -> None:
        with self._mutex:
            if self._finished:
                return
            self._finished = True
            if not self._write_pending():
                logger.warning(
                    "mltrace: %d run(s) were never written to the spool %s (%s) and are lost "
                    "at exit", self._pending_count(), self._spool_dir, self._last_error,
                )
        atexit.unregister(self._at_exit)
