"""The OpenTelemetry side: tracer provider, span processor and export path per backend.

- Spans of mltrace's scope go through a ``BatchSpanProcessor`` to the backend's exporter,
  wrapped so that a batch the backend cannot take waits in the outbox (``delivery``).
- A span started with no active span takes its parent from ``TRACEPARENT``/``TRACESTATE``
  (``propagation``), so a pipeline spread over processes is one trace.
- In a worker process (a ``multiprocessing``/``concurrent.futures``/joblib child, or any forked
  child) every span is exported as it ends: pools end their workers without running ``atexit``
  handlers (``os._exit``, or SIGTERM when a pool is terminated). After a fork the child gets
  its own exporter connection; the SDK restarts the batch worker thread itself. The main
  process only pays one attribute test per span.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from mltrace_otel import semconv
from mltrace_otel._version import __version__
from mltrace_otel.config import ConfigurationError, Settings, unknown_backend_error
from mltrace_otel.sdk.delivery import DeliveringExporter
from mltrace_otel.sdk.outbox import Outbox
from mltrace_otel.sdk.propagation import environment_context
from mltrace_otel.sdk.spool_exporter import SpoolSpanExporter

logger = logging.getLogger("mltrace_otel")

# Large enough that a tight loop of runs never overflows the queue between exports.
_MAX_QUEUE_SIZE = 1 << 18
_EXPORT_BATCH_SIZE = 4096
_SCHEDULE_DELAY_MILLIS = 1000

ENV_OTLP_TIMEOUT = "OTEL_EXPORTER_OTLP_TIMEOUT"
ENV_OTLP_TRACES_TIMEOUT = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
DEFAULT_EXPORT_TIMEOUT = 10.0
"""Seconds one export may take, for the ``otlp`` and the ``clickhouse`` backend alike."""
ENV_OTLP_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_OTLP_TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
OTLP_PROTOCOLS = ("http/protobuf", "grpc")
"""The OTLP transports the ``otlp`` backend speaks (the Python SDK has no ``http/json``)."""
ENV_SDK_DISABLED = "OTEL_SDK_DISABLED"
"""The standard switch that turns OpenTelemetry off in a process, mltrace's runs included
(default: on); a run it drops is warned about once and makes ``flush()`` False."""

_forked_child = False
_live: weakref.WeakSet[Tracing] = weakref.WeakSet()


def export_timeout() -> float:
    """The export deadline in seconds: the standard OTLP timeout variables, default 10."""
    raw = os.environ.get(ENV_OTLP_TRACES_TIMEOUT) or os.environ.get(ENV_OTLP_TIMEOUT)
    try:
        value = float(raw) if raw else DEFAULT_EXPORT_TIMEOUT
    except ValueError:
        return DEFAULT_EXPORT_TIMEOUT
    return value if value > 0 else DEFAULT_EXPORT_TIMEOUT


def in_worker_process() -> bool:
    """True in a forked child or a ``multiprocessing`` child (pools, executors, loky)."""
    if _forked_child:
        return True
    multiprocessing = sys.modules.get("multiprocessing")
    return multiprocessing is not None and multiprocessing.parent_process() is not None


def _after_fork_in_child() -> None:
    global _forked_child
    _forked_child = True
    for tracing in list(_live):
        tracing.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class MltraceSpanProcessor(SpanProcessor):
    """Forwards the spans of mltrace's instrumentation scope to a batch export path.

    Installed on the application's own TracerProvider when there is one, so it must ignore
    the application's other spans and must be switchable off on reconfiguration (processors
    cannot be removed from a provider).
    """

    def __init__(self, exporter: SpanExporter, export_each_span: bool = False) -> None:
        self._batch = _batch_processor(exporter)
        self._active = True
        self.export_each_span = export_each_span

    def replace_exporter(self, exporter: SpanExporter) -> None:
        """Export through ``exporter`` from now on (a forked child's own exporter)."""
        self._batch = _batch_processor(exporter)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        if self._active and scope is not None and scope.name == semconv.SCOPE_NAME:
            self._batch.on_end(span)
            if self.export_each_span:
                self._batch.force_flush()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._batch.force_flush(timeout_millis) if self._active else True

    def shutdown(self) -> None:
        if self._active:
            self._active = False
            self._batch.shutdown()


def _batch_processor(exporter: SpanExporter) -> BatchSpanProcessor:
    return BatchSpanProcessor(
        exporter,
        max_queue_size=_MAX_QUEUE_SIZE,
        max_export_batch_size=_EXPORT_BATCH_SIZE,
        schedule_delay_millis=_SCHEDULE_DELAY_MILLIS,
    )


class ParentedTracer:
    """mltrace's tracer: with no active span, a new span's parent comes from the environment.
    A run it cannot record (``OTEL_SDK_DISABLED``, a sampler) is reported to ``lost``."""

    def __init__(self, tracer: trace.Tracer, lost: Callable[[], None]) -> None:
        self._tracer = tracer
        self._lost = lost

    def start_span(self, name: str, context: Context | None = None, **options: Any) -> trace.Span:
        if context is None and not trace.get_current_span().get_span_context().is_valid:
            context = environment_context()
        span = self._tracer.start_span(name, context=context, **options)
        if not span.is_recording():
            self._lost()
            _warn_unrecorded()
        return span


_warned_unrecorded = False


def _warn_unrecorded() -> None:
    """One warning per process for runs OpenTelemetry does not record."""
    global _warned_unrecorded
    if _warned_unrecorded:
        return
    _warned_unrecorded = True
    if os.environ.get(ENV_SDK_DISABLED, "").strip().lower() == "true":
        cause = f"{ENV_SDK_DISABLED}=true turns OpenTelemetry off in this process"
    else:
        cause = "the application's TracerProvider does not record it (its sampler)"
    logger.warning("mltrace: a run was not recorded: %s; flush() returns False from now on",
                   cause)


def _requested_protocol() -> tuple[str, str]:
    """The OTLP protocol the standard variables ask for traces (normalized; default
    ``http/protobuf``), and the variable that asked."""
    for variable in (ENV_OTLP_TRACES_PROTOCOL, ENV_OTLP_PROTOCOL):
        raw = os.environ.get(variable)
        if raw:
            return raw.strip().lower(), variable
    return OTLP_PROTOCOLS[0], ""


def otlp_exporter() -> SpanExporter:
    """The OTLP exporter of the protocol the standard variables choose: ``http/protobuf``
    unless ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``/``OTEL_EXPORTER_OTLP_PROTOCOL`` says
    ``grpc``. Another value is a ConfigurationError, which delivery treats as an outage:
    the runs wait in the outbox for a process configured to send them."""
    protocol, variable = _requested_protocol()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return GrpcSpanExporter(timeout=export_timeout())
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(timeout=export_timeout())
    raise ConfigurationError(
        f"{variable}={os.environ.get(variable)!r} is not an OTLP protocol mltrace can send: "
        f"use {' or '.join(OTLP_PROTOCOLS)}"
    )


def _remote_exporter(settings: Settings) -> tuple[Any, str]:
    """A factory of the remote backend's own exporter, and how to name it in a warning."""
    if settings.backend == "otlp":
        return otlp_exporter, f"the otlp backend ({_redacted(_otlp_target())})"
    if settings.backend != "clickhouse":  # a name config.resolve(strict=False) kept
        def refuse() -> SpanExporter:
            raise unknown_backend_error(settings.backend)

        return refuse, f"the backend {settings.backend!r}"
    from mltrace_otel.sdk.clickhouse_exporter import ClickHouseSpanExporter

    return (
        lambda: ClickHouseSpanExporter(settings, timeout=export_timeout()),
        f"the clickhouse backend ({_redacted(settings.url or 'no URL set')})",
    )


def _otlp_target() -> str:
    """Where the OTLP exporter sends traces, resolved as it resolves it (gRPC named)."""
    protocol, _ = _requested_protocol()
    specific = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if protocol == "grpc":
        return "gRPC, " + (specific or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                           or "http://localhost:4317")
    if specific:
        return specific
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
    return f"{base.rstrip('/')}/v1/traces"


def _redacted(url: str) -> str:
    from mltrace_otel.secrets import redact

    return redact(url)


def outbox_dir(home: Path) -> Path:
    """Where undelivered export batches wait (``$MLTRACE_HOME/outbox``)."""
    return home / "outbox"


class Tracing:
    """The tracer mltrace logs runs with, and the processor that exports them."""

    def __init__(self, settings: Settings, lost: Callable[[], None]) -> None:
        """``lost`` is told of each run that could not be recorded (``flush()`` says so)."""
        provider: Any = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            resource = Resource.create(
                {SERVICE_NAME: settings.service_name} if settings.service_name else {}
            )
            # Every run is recorded: an unsampled TRACEPARENT must not drop lineage. Not shut
            # down at exit: a run that ends in an exit handler registered earlier (they run
            # after ours) is still exported (see _final_flush).
            provider = TracerProvider(resource=resource, sampler=ALWAYS_ON,
                                      shutdown_on_exit=False)
            self._owned_provider: TracerProvider | None = provider
        else:
            self._owned_provider = None
        self.outbox = Outbox(outbox_dir(settings.home))
        # The spool keeps batches it cannot write (a full disk) itself; the remote backends
        # hand theirs to the outbox.
        self._spool: SpoolSpanExporter | None = None
        self._spool_dir = settings.spool_dir
        self._delivery: DeliveringExporter | None = None
        exporter: SpanExporter
        if settings.backend == "local":
            exporter = self._spool = SpoolSpanExporter(settings.spool_dir)
        else:
            make_exporter, target = _remote_exporter(settings)
            exporter = self._delivery = DeliveringExporter(
                make_exporter, self.outbox, target, in_worker_process
            )
        self.processor = MltraceSpanProcessor(exporter, in_worker_process())
        provider.add_span_processor(self.processor)
        self.tracer = ParentedTracer(provider.get_tracer(semconv.SCOPE_NAME, __version__), lost)
        self._closed = False
        _live.add(self)
        atexit.register(self._final_flush)

    def flush(self, probe: bool = True) -> bool:
        """Export every finished span now; True when nothing is left undelivered.

        With ``probe`` a backend that failed recently is tried once more (a flush never waits
        longer than one export timeout); without it, queued spans go to the outbox at once.
        """
        try:
            if self._closed:
                return self._delivery is None or not self.outbox.files()
            if probe and self._delivery is not None:
                self._delivery.allow_probe()
            flushed = self.processor.force_flush()
            if self._delivery is not None:
                return self._delivery.deliver_pending() and flushed
            return self._spool is None or (self._spool.force_flush() and flushed)
        except Exception as error:  # never raise into the pipeline
            logger.warning("mltrace: flushing spans failed: %s", error)
            return False

    def pending_spans(self) -> int:
        """Spans waiting in the outbox."""
        return self.outbox.pending_spans()

    def after_fork_in_child(self) -> None:
        """Give a forked child its own export connection and export each span as it ends."""
        if self._delivery is not None:
            self._delivery.after_fork_in_child()
        if self._spool is not None:  # its lock may have been held by the parent's exporter
            inherited = getattr(self._spool, "_at_exit", None)
            if inherited is not None:  # the parent writes the parent's pending batches
                atexit.unregister(inherited)
            self._spool = SpoolSpanExporter(self._spool_dir)
            self.processor.replace_exporter(self._spool)
        self.processor.export_each_span = True

    def _final_flush(self) -> None:
        """At exit: one last attempt, then nothing waits on the backend any more; a run that
        ends later (in an exit handler that runs after this one) is exported as it ends."""
        self.flush()
        if self._delivery is not None:
            self._delivery.close_after_final_flush()
        self.processor.export_each_span = True

    def shutdown(self) -> None:
        """Flush, then stop exporting (used when the configuration changes); a backend that
        just failed is not waited on again."""
        self.flush(probe=False)
        self.processor.shutdown()
        if self._owned_provider is not None:
            self._owned_provider.shutdown()
        atexit.unregister(self._final_flush)
        self._closed = True

