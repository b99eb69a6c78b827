"""Connections to a ClickHouse server (clickhouse-connect, imported on first use), shared by
the ``clickhouse`` backend's span exporter and the server store."""

from __future__ import annotations

from typing import Any

from mltrace_otel.config import ConfigurationError, Settings


class ConnectionFailed(RuntimeError):
    """The ClickHouse server could not be reached; the message names it without secrets."""


def connect(settings: Settings) -> Any:
    """A clickhouse-connect client for ``settings.url``."""
    if not settings.url:
        raise ConfigurationError(
            "the clickhouse and otlp backends query a ClickHouse server: set "
            "MLTRACE_CLICKHOUSE_URL (e.g. http://user:pass@host:8123/db) or pass url="
        )
    import clickhouse_connect

    try:
        return clickhouse_connect.get_client(dsn=settings.url)
    except Exception as error:
        message = f"cannot reach ClickHouse at {redacted(settings.url)}: {error}"
        raise ConnectionFailed(message) from error


def redacted(url: str) -> str:
    """``url`` without its user information."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
