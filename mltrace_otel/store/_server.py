"""A ClickHouse server through clickhouse-connect: the store and a direct span exporter.

Queries are the same SQL as the embedded store; parameters are bound server-side.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mltrace_otel._config import ConfigurationError, Settings
from mltrace_otel._rows import spans_table
from mltrace_otel.store._base import Result, Store, StoreError

logger = logging.getLogger("mltrace_otel")


def _client(settings: Settings) -> Any:
    if not settings.url:
        raise ConfigurationError(
            "the clickhouse and otlp backends query a ClickHouse server: set "
            "MLTRACE_CLICKHOUSE_URL (e.g. http://user:pass@host:8123/db) or pass url="
        )
    import clickhouse_connect

    try:
        return clickhouse_connect.get_client(dsn=settings.url)
    except Exception as error:
        message = f"cannot reach ClickHouse at {_redacted(settings.url)}: {error}"
        raise StoreError(message) from error


def _redacted(url: str) -> str:
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


class ServerStore(Store):
    """Queries a ClickHouse server; schema created by ``init-db`` or the Collector."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connection: Any = None

    @property
    def _conn(self) -> Any:
        if self._connection is None:
            self._connection = _client(self._settings)
        return self._connection

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Result:
        with _as_store_error():
            result = self._conn.query(sql, parameters=dict(parameters or {}))
        rows = [[_utc(value) for value in row] for row in result.result_rows]
        return Result(list(result.column_names), rows)

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        with _as_store_error():
            self._conn.command(sql, parameters=dict(parameters or {}))

    def columns(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        with _as_store_error():
            table = self._conn.query_arrow(sql, parameters=dict(parameters or {}))
        return {name: table.column(name).to_numpy() for name in table.column_names}

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextlib.contextmanager
def _as_store_error() -> Iterator[None]:
    """Driver and server errors become a one-line StoreError."""
    try:
        yield
    except StoreError:
        raise
    except Exception as error:
        raise StoreError(str(error).strip().splitlines()[0]) from error


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class ClickHouseSpanExporter(SpanExporter):
    """Inserts spans straight into ``otel_traces`` on a ClickHouse server (no Collector)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connection: Any = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            if self._connection is None:
                self._connection = _client(self._settings)
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
