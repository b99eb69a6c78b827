"""The ``clickhouse`` backend's exporter: spans inserted straight into ``otel_traces`` on a
ClickHouse server (no Collector), as the rows the Collector's ClickHouse exporter writes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mltrace_otel import clickhouse
from mltrace_otel.config import Settings

logger = logging.getLogger("mltrace_otel")


class ClickHouseSpanExporter(SpanExporter):
    """Inserts spans straight into ``otel_traces`` on a ClickHouse server (no Collector)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connection: Any = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from mltrace_otel.rows import spans_table  # pyarrow: off the import path

        try:
            if self._connection is None:
                self._connection = clickhouse.connect(self._settings)
            self._connection.insert_arrow("otel_traces", spans_table(spans))
        except Exception as error:  # never raise into the pipeline
            logger.warning(
                "mltrace: could not insert %d run(s) into ClickHouse: %s", len(spans), error
            )
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._connection is not None:
            self._connection.close()
