"""Bound query parameters in ClickHouse's text form (clickhouse-connect's formatter)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from clickhouse_connect.driver.binding import format_bind_value, must_escape

_ESCAPED = ("\\", *(character for character in must_escape if character != "\\"))
"""clickhouse-connect's escaped characters, backslash first so added ones are not doubled."""


_NEEDS_ESCAPE = re.compile("[" + re.escape("".join(_ESCAPED)) + "]")


def _escape(text: str) -> str:
    """clickhouse-connect's string escaping with ``str.replace`` (its own loop is per
    character: a 10^4-id array or a 1 MB string takes a noticeable fraction of a second)."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    for character in _ESCAPED:
        text = text.replace(character, "\\" + character)
    return text


def bind_value(value: Any) -> str:
    """One parameter value as ClickHouse parses ``{name:Type}`` parameters."""
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "[" + ", ".join(f"'{_escape(item)}'" for item in value) + "]"
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
