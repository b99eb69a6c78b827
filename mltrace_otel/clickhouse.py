"""Connections to a ClickHouse server (clickhouse-connect, imported on first use), shared by
the ``clickhouse`` backend's span exporter and the server store."""

from __future__ import annotations

import math
from typing import Any

from mltrace_otel.config import ConfigurationError, Settings
from mltrace_otel.secrets import redact


class ConnectionFailed(RuntimeError):
    """The ClickHouse server could not be reached; the message names it without secrets."""


def connect(settings: Settings, timeout: float | None = None) -> Any:
    """A clickhouse-connect client for ``settings.url``.

    ``timeout`` (seconds) bounds connecting and each request's wait for an answer (the
    exporter passes the export deadline; clickhouse-connect's own read default is 300 s).
    """
    if not settings.url:
        raise ConfigurationError(
            "the clickhouse and otlp backends query a ClickHouse server: set "
            "MLTRACE_CLICKHOUSE_URL (e.g. http://host:8123/db, with user:password@ before the "
            "host if the server asks for them) or pass url="
        )
    scheme, _, rest = settings.url.partition("://")
    if scheme.lower() not in ("http", "https", "clickhouse", "clickhouses") or not rest.strip("/"):
        # clickhouse-connect would silently use localhost:8123 for e.g. "test"
        raise ConfigurationError(
            f"{redacted(settings.url)!r} is not a ClickHouse server URL "
            "(expected e.g. http://host:8123/db)"
        )
    import clickhouse_connect

    try:
        limits = {}
        if timeout is not None:
            seconds = max(1, math.ceil(timeout))  # clickhouse-connect takes whole seconds
            limits = {"connect_timeout": seconds, "send_receive_timeout": seconds}
        return clickhouse_connect.get_client(dsn=settings.url, **limits)
    except Exception as error:
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

        if isinstance(error, OperationalError):
            problem = "cannot be reached"
        elif isinstance(error, DatabaseError):  # it answered, with an error (e.g. the password)
            problem = "refused the connection"
        else:
            problem = "cannot be used"
        message = redact(f"ClickHouse at {settings.url} {problem}: {error}")
        raise ConnectionFailed(message) from error


def redacted(url: str) -> str:
    """``url`` (or any text) without passwords and tokens (``mltrace_otel.secrets``)."""
    return redact(url)
