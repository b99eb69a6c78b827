"""The ``clickhouse`` backend's exporter: spans inserted straight into ``otel_traces`` on a
ClickHouse server (no Collector), as the rows the Collector's ClickHouse exporter writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mltrace_otel import clickhouse
from mltrace_otel.config import Settings


class ClickHouseSpanExporter(SpanExporter):
    """Inserts spans straight into ``otel_traces`` on a ClickHouse server (no Collector).

    Connecting and each insert are bounded by ``timeout`` seconds. A failed export returns
    FAILURE and leaves its reason in ``last_error`` (the caller warns once, not per batch).
    """

    def __init__(self, settings: Settings, timeout: float) -> None:
        self._settings = settings
        self._timeout = timeout
        self._connection: Any = None
        self.last_error: str | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            from mltrace_otel.rows import spans_table  # pyarrow: off the import path

            if self._connection is None:
                self._connection = clickhouse.connect(self._settings, timeout=self._timeout)
            self._connection.insert_arrow("otel_traces", spans_table(spans))
        except Exception as error:  # never raise into the pipeline
            self.last_error = str(error)
            self._close()
            return SpanExportResult.FAILURE
        self.last_error = None
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._close()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a broken connection may fail to close; it is dropped anyway
                return
