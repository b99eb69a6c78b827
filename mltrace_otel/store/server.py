"""A ClickHouse server through clickhouse-connect, as the store.

Queries are the same SQL as the embedded store; parameters are bound server-side.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np

from mltrace_otel import clickhouse
from mltrace_otel.config import Settings
from mltrace_otel.secrets import redact
from mltrace_otel.store.base import Result, Store, StoreError, refuse_files, without_check_scope

logger = logging.getLogger("mltrace_otel")


def _connect(settings: Settings) -> Any:
    try:
        return clickhouse.connect(settings)
    except clickhouse.ConnectionFailed as error:
        raise StoreError(str(error)) from error


class ServerStore(Store):
    """Queries a ClickHouse server; schema created by ``init-db`` or the Collector."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._connection: Any = None

    @property
    def _conn(self) -> Any:
        if self._connection is None:
            self._connection = _connect(self._settings)
        return self._connection

    @property
    def location(self) -> str:
        return f"at {redact(self._settings.url or '')}"

    def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None, *, readonly: bool = False
    ) -> Result:
        settings = {"readonly": 1} if readonly else None
        with _as_store_error():
            if readonly:
                formatted = self._conn.query(
                    "SELECT formatQuery({sql:String})", parameters={"sql": sql}, settings=settings
                ).result_rows[0][0]
                refuse_files(formatted)
            result = self._conn.query(sql, parameters=dict(parameters or {}), settings=settings)
        rows = [[_utc(value) for value in row] for row in result.result_rows]
        return Result(list(result.column_names), rows)

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        with _as_store_error():
            self._conn.command(sql, parameters=dict(parameters or {}))

    def text(self, sql: str, parameters: Mapping[str, Any] | None = None) -> str:
        with _as_store_error():
            raw = self._conn.raw_query(
                sql, parameters=dict(parameters or {}), fmt="TabSeparatedRaw"
            )
        return raw.decode("utf-8", "replace")

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
        lines = str(error).strip().splitlines() or [type(error).__name__]
        message = redact(without_check_scope(lines[0]))
        if "READONLY" in message or "readonly mode" in message:
            message = "read-only SQL cannot write or change tables (use --write for deliberate "
            message += "changes)"
        raise StoreError(message) from error


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
