"""Redaction: no password or token is ever printed.

``redact(text)`` finds every URL in a text and replaces the password of its user
information and the values of its secret-looking query parameters with ``***``
(``http://user:p@ss@host/db`` -> ``http://user:***@host/db``; ``?password=x`` ->
``?password=***``); ``key=value`` and ``'key': 'value'`` pairs with secret-looking keys
outside URLs are redacted too (quoted values whole), and so are command-line options named
as secrets (``--password VALUE``, ``--readonly-password VALUE``; not ``--author``) and the
``Authorization`` and ``X-ClickHouse-Key`` headers (``Authorization: Basic ***``). It errs on
the side of hiding too much. ``RedactingFilter`` applies it to every record of the
``mltrace_otel`` logger.
"""

from __future__ import annotations

import logging
import re
from typing import Final

MASK: Final = "***"

_SECRET_KEY = (
    r"[\w.-]*(?:pass(?:word|wd)?|pwd|token|secret|api[_-]?key|apikey|auth|credential"
    r"|signature|sig)[\w.-]*"
)
_VALUE = r"(\"[^\"]*\"|'[^']*'|[^\s&;,'\"<>)]+)"
_PAIR = re.compile(
    rf"(?i)(\b(?!(?:proxy-)?authorization\b){_SECRET_KEY}['\"]?\s*[=:]\s*){_VALUE}"
)
_OPTION_NAME = (
    r"(?:[a-z0-9]+[-_])*(?:password|passwd|pwd|token|secret|api[-_]?key|key|auth|credentials?)"
)
_OPTION = re.compile(rf"(?i)((?:^|\s)--?{_OPTION_NAME}\s+){_VALUE}")
_HEADER = re.compile(
    r"(?i)(\b(?:(?:proxy-)?authorization|x-clickhouse-key)['\"]?\s*[=:]\s*['\"]?"
    r"(?:(?:basic|bearer|digest|negotiate|token)\s+)?)([^\s'\"<>,;}]+)"
)
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s'\"<>`]+)")


def redact(text: str) -> str:
    """``text`` with passwords and tokens in URLs and ``key=value`` pairs replaced by ***."""
    if not text:
        return text
    text = _URL.sub(lambda match: match.group(1) + _redact_url_rest(match.group(2)), text)
    for pattern in (_HEADER, _OPTION, _PAIR):  # a header's scheme word is not its secret
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


def _redact_url_rest(rest: str) -> str:
    """The part of a URL after ``scheme://``, with its password hidden."""
    authority_end = _first_index(rest, "/?#")
    authority = rest[:authority_end]
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        return _hide_password(userinfo) + "@" + host + rest[authority_end:]
    last_at = rest.rfind("@")
    if ":" in authority and last_at > authority_end:
        port = authority.split(":", 1)[1]
        in_query = _first_index(rest, "?#") < last_at
        if not (port.isdigit() and in_query):
            # the password itself holds '/', '?' or '#': hide everything up to the host
            return _hide_password(rest[:last_at]) + rest[last_at:]
    return rest


def _hide_password(userinfo: str) -> str:
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}" if colon else userinfo


def _first_index(text: str, characters: str) -> int:
    positions = [text.find(character) for character in characters if character in text]
    return min(positions) if positions else len(text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


LOGGERS: Final = (
    "mltrace_otel",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.trace.export",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "clickhouse_connect.driver.httpclient",
    "clickhouse_connect.driver.client",
    "urllib3.connectionpool",
)
"""Loggers whose records can carry a backend URL or a driver error: mltrace's own and those
of the exporters, driver and HTTP pool it runs (urllib3 logs request lines at DEBUG). A
logger filter sees only its own logger's records."""


def install_log_filter(names: tuple[str, ...] = LOGGERS) -> None:
    """Redact every record of the named loggers; idempotent."""
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
            target.addFilter(RedactingFilter())


install_log_filter()  # importing mltrace_otel redacts the records of LOGGERS
