"""The OpenTelemetry side: tracer provider, span processor and export path per backend."""

from __future__ import annotations

import atexit
import logging
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from mltrace_otel import semconv
from mltrace_otel._version import __version__
from mltrace_otel.config import Settings
from mltrace_otel.sdk.spool import SpoolSpanExporter

logger = logging.getLogger("mltrace_otel")

# Large enough that a tight loop of runs never overflows the queue between exports.
_MAX_QUEUE_SIZE = 1 << 18
_EXPORT_BATCH_SIZE = 4096
_SCHEDULE_DELAY_MILLIS = 1000


class MltraceSpanProcessor(SpanProcessor):
    """Forwards the spans of mltrace's instrumentation scope to a batch export path.

    Installed on the application's own TracerProvider when there is one, so it must ignore
    the application's other spans and must be switchable off on reconfiguration (processors
    cannot be removed from a provider).
    """

    def __init__(self, exporter: SpanExporter) -> None:
        self._batch = BatchSpanProcessor(
            exporter,
            max_queue_size=_MAX_QUEUE_SIZE,
            max_export_batch_size=_EXPORT_BATCH_SIZE,
            schedule_delay_millis=_SCHEDULE_DELAY_MILLIS,
        )
        self._active = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        if self._active and scope is not None and scope.name == semconv.SCOPE_NAME:
            self._batch.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._batch.force_flush(timeout_millis) if self._active else True

    def shutdown(self) -> None:
        if self._active:
            self._active = False
            self._batch.shutdown()


def _exporter(settings: Settings) -> SpanExporter:
    if settings.backend == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if settings.backend == "clickhouse":
        from mltrace_otel.sdk.clickhouse_exporter import ClickHouseSpanExporter

        return ClickHouseSpanExporter(settings)
    return SpoolSpanExporter(settings.spool_dir)


class Tracing:
    """The tracer mltrace logs runs with, and the processor that exports them."""

    def __init__(self, settings: Settings) -> None:
        provider: Any = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            resource = Resource.create(
                {SERVICE_NAME: settings.service_name} if settings.service_name else {}
            )
            provider = TracerProvider(resource=resource)
            self._owned_provider: TracerProvider | None = provider
        else:
            self._owned_provider = None
        self.processor = MltraceSpanProcessor(_exporter(settings))
        provider.add_span_processor(self.processor)
        self.tracer = provider.get_tracer(semconv.SCOPE_NAME, __version__)
        atexit.register(self.flush)

    def flush(self) -> bool:
        """Export every finished span now; True when all were exported in time."""
        try:
            return self.processor.force_flush()
        except Exception as error:  # never raise into the pipeline
            logger.warning("mltrace: flushing spans failed: %s", error)
            return False

    def shutdown(self) -> None:
        """Flush, then stop exporting (used when the configuration changes)."""
        self.flush()
        self.processor.shutdown()
        if self._owned_provider is not None:
            self._owned_provider.shutdown()
        atexit.unregister(self.flush)
