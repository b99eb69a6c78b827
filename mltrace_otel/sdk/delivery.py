"""Delivery: export through the backend's own OpenTelemetry exporter, and keep what it cannot
take in the outbox until it can.

The backend's exporter keeps its own timeout and retries (the OTLP exporter's
``OTEL_EXPORTER_OTLP_TIMEOUT``, 10 s by default). On top of it there is only a breaker: after a
failed export, batches go straight to the outbox without waiting on the backend again until
``RETRY_INTERVAL`` has passed or someone calls ``flush()``; each flush tries the backend once.
So a flush, and process exit, never wait longer than one export timeout. A pipeline warns
once per outage: a process and the workers of its pools share one marker file in the outbox.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mltrace_otel.config import ConfigurationError
from mltrace_otel.driver_logs import CLICKHOUSE_DRIVER_LOGGERS, quiet
from mltrace_otel.repair import sendable_spans
from mltrace_otel.sdk.outbox import Outbox
from mltrace_otel.secrets import redact

logger = logging.getLogger("mltrace_otel")

RETRY_INTERVAL = 30.0
"""Seconds after a failed export before a background export tries the backend again."""

MAX_REQUEST_BYTES = 3 << 20
"""Estimated encoded size one export request may reach: under the 4 MiB a Collector's OTLP
gRPC receiver accepts by default (its OTLP/HTTP default is 20 MiB), so a run with a large
pointer set (a run span and its continuation spans, about 1 MiB each) travels in several
requests instead of one that the Collector refuses."""

MAX_HELD_SPANS = 1 << 18
"""Spans kept in memory when the outbox itself cannot be written (e.g. a full disk)."""

_WARNED_MARKER = ".warned"

_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    *CLICKHOUSE_DRIVER_LOGGERS,
)
"""Loggers of the exporters' clients: while mltrace exports, their retry and failure
messages become mltrace's one warning instead of a line per attempt."""


quiet.attach(_EXPORTER_LOGGERS)


class DeliveringExporter(SpanExporter):
    """A span exporter that never loses a batch: the backend takes it, or the outbox does."""

    def __init__(
        self,
        make_exporter: Callable[[], SpanExporter],
        outbox: Outbox,
        target: str,
        worker: Callable[[], bool],
    ) -> None:
        self._make_exporter = make_exporter
        self._outbox = outbox
        self._target = target
        self._worker = worker
        self._exporter: SpanExporter | None = None
        self._lock = threading.RLock()
        self._down_since: float | None = None
        self._probe = True
        self._closing = False
        self._held: list[ReadableSpan] = []
        self._warned = False
        self._reason: str | None = None
        self._misconfigured = False  # the exporter could not be made: no outage to wait out

    # -- SpanExporter ------------------------------------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        spans = sendable_spans(spans)  # one run that cannot be encoded never fails its batch
        result = SpanExportResult.SUCCESS
        for request in requests_within(spans, MAX_REQUEST_BYTES):
            with self._lock:
                if self._usable() and self._send(request):
                    self._deliver_waiting()
                else:
                    self._keep(request)
                    result = SpanExportResult.FAILURE
        return result

    def shutdown(self) -> None:
        with self._lock:
            self._closing = True
            self._drop_held_at_exit()
            if self._exporter is not None:
                with contextlib.suppress(Exception):
                    self._exporter.shutdown()
                self._exporter = None

    # -- what flush() uses -----------------------------------------------------------------
    def allow_probe(self) -> None:
        """Let the next export try the backend even if it failed a moment ago."""
        with self._lock:
            self._probe = not self._closing or self._down_since is None

    def deliver_pending(self) -> bool:
        """Try the outbox and held spans (unless the backend failed during this flush);
        True when nothing is left undelivered."""
        with self._lock:
            if self._usable():
                self._deliver_waiting()
            return not self._held and not self._outbox.files()

    def close_after_final_flush(self) -> None:
        """From now on (process exit), only a backend that just worked is tried; spans still
        held in memory are lost, with one warning."""
        with self._lock:
            self._closing = True
            self._probe = False
            self._drop_held_at_exit()

    def after_fork_in_child(self) -> None:
        """The parent's connection and locks are not this process's to use."""
        self._lock = threading.RLock()
        self._exporter = None
        self._held = []

    # -- internals ------------------------------------------------------------------------
    def _drop_held_at_exit(self) -> None:
        if self._held:
            logger.warning(
                "mltrace: %d finished span(s) could not be delivered to %s nor written to the "
                "outbox %s; they are lost at exit",
                len(self._held), self._target, self._outbox.folder,
            )
            self._held.clear()

    def _usable(self) -> bool:
        if self._down_since is None or self._probe:
            return True
        return not self._closing and time.monotonic() - self._down_since >= RETRY_INTERVAL

    def _send(self, spans: Sequence[ReadableSpan]) -> bool:
        try:
            if self._exporter is None:
                self._exporter = self._make_exporter()
            with quiet.active():
                ok = self._exporter.export(spans) is SpanExportResult.SUCCESS
                reason = quiet.local.first
        except Exception as error:  # an exporter must never raise into the pipeline
            ok, reason = False, str(error)
            self._misconfigured = isinstance(error, ConfigurationError)
        if ok:
            self._down_since = None
            return True
        self._down_since, self._probe = time.monotonic(), False
        self._reason = getattr(self._exporter, "last_error", None) or reason
        return False

    def _deliver_waiting(self) -> None:
        if self._held:
            held, self._held = self._held, []
            if not self._send(held):
                self._keep(held)
                return
        if self._outbox.deliver(lambda spans: self._send(spans)) and not self._held:
            self._warned = False
            with contextlib.suppress(OSError):
                _forget_warnings(self._outbox.folder)

    def _keep(self, spans: Sequence[ReadableSpan]) -> None:
        try:
            dropped = self._outbox.put(spans)
        except Exception as error:  # the outbox is unwritable: hold them while we live
            self._hold(spans, error)
            return
        if dropped:
            logger.warning(
                "mltrace: the outbox %s reached its bound (%d MiB, %d files); the %d oldest "
                "undelivered span(s) were dropped",
                self._outbox.folder, self._outbox.max_bytes >> 20, self._outbox.max_files,
                dropped,
            )
        self._warn_once(
            f"finished runs are kept in the outbox {self._outbox.folder} and delivered by the "
            + ("next process configured to send them" if self._misconfigured
               else "next flush or the next process once it is back")
        )

    def _hold(self, spans: Sequence[ReadableSpan], error: Exception) -> None:
        self._held.extend(spans)
        overflow = len(self._held) - MAX_HELD_SPANS
        if overflow > 0:
            del self._held[:overflow]
            logger.warning("mltrace: %d undelivered span(s) dropped from memory", overflow)
        self._warn_once(
            f"the outbox {self._outbox.folder} cannot be written either ({error}); "
            f"{len(self._held)} finished span(s) wait in memory and are retried while this "
            "process lives"
        )

    def _warn_once(self, consequence: str) -> None:
        if self._warned:
            return
        self._warned = True
        # One warning per pipeline: a pool's workers and the process that owns the pool
        # share one marker, named after the owner's pid.
        owner = os.getppid() if self._worker() else os.getpid()
        if not _claim_warning(self._outbox.folder, owner):
            return
        detail = f" ({_short(self._reason)})" if self._reason else ""
        logger.warning(
            "mltrace: cannot deliver runs to %s%s; %s", self._target, detail, consequence
        )


def requests_within(
    spans: Sequence[ReadableSpan], max_bytes: int
) -> Iterator[Sequence[ReadableSpan]]:
    """``spans`` in consecutive groups whose estimated encoded size stays within
    ``max_bytes`` (a span larger than that travels alone)."""
    start, size = 0, 0
    for position, span in enumerate(spans):
        span_bytes = _estimated_bytes(span)
        if position > start and size + span_bytes > max_bytes:
            yield spans[start:position]
            start, size = position, 0
        size += span_bytes
    if start < len(spans):
        yield spans[start:]


_SPAN_OVERHEAD = 128
"""Ids, times, kind, status and framing of one span, in bytes."""

_VALUE_OVERHEAD = 8
"""Framing of one attribute or array item (key/value wrappers, tags, lengths)."""


def _estimated_bytes(span: ReadableSpan) -> int:
    """About what the span takes as OTLP protobuf: names and values, plus framing."""
    size = _SPAN_OVERHEAD + len(span.name) + _attributes_bytes(span.attributes)
    for event in span.events:
        size += _SPAN_OVERHEAD + len(event.name) + _attributes_bytes(event.attributes)
    for link in span.links:
        size += _SPAN_OVERHEAD + _attributes_bytes(link.attributes)
    return size


def _attributes_bytes(attributes: object) -> int:
    if not attributes:
        return 0
    size = 0
    for key, value in attributes.items():  # type: ignore[attr-defined]
        size += len(key) + _VALUE_OVERHEAD
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, (tuple, list)):
            size += sum(
                (len(item) if isinstance(item, str) else 8) + _VALUE_OVERHEAD for item in value
            )
        else:
            size += 8
    return size


def _claim_warning(folder: Path, owner: int) -> bool:
    """True for the first process of ``owner``'s pipeline to warn about this outage."""
    try:
        os.close(os.open(folder / f"{_WARNED_MARKER}-{owner}", os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


def _forget_warnings(folder: Path) -> None:
    """The outage is over: the next one warns again."""
    for marker in folder.glob(f"{_WARNED_MARKER}-*"):
        marker.unlink(missing_ok=True)


def _short(reason: str, limit: int = 200) -> str:
    """An exporter's failure message: one line, no credentials, at most ``limit`` chars."""
    text = redact(" ".join(reason.split()))
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
