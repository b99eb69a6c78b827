"""Bound query parameters in ClickHouse's text form (clickhouse-connect's formatter)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from clickhouse_connect.driver.binding import format_bind_value


def bind_value(value: Any) -> str:
    """One parameter value as ClickHouse parses ``{name:Type}`` parameters."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(format_bind_value(value))


def bind_parameters(parameters: Mapping[str, Any] | None) -> dict[str, str] | None:
    """All parameters of a query, or None."""
    if not parameters:
        return None
    return {name: bind_value(value) for name, value in parameters.items()}
