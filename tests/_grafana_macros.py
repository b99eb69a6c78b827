"""What Grafana and the ClickHouse plugin do to a panel's SQL before ClickHouse sees it.

Two steps, in Grafana's order:

1. Grafana's template service interpolates dashboard variables (``$var``, ``${var}``,
   ``${var:format}``, ``[[var]]``) in the browser, with the formats of its format registry
   (``sqlstring``, ``singlequote``, ``doublequote``, ``csv``, ``raw``, ``percentencode``,
   ``pipe``, ``json``). A variable without a format gets the ClickHouse plugin's default
   (``CHDatasource.format``): a single value verbatim, several values as ``'a','b'``.
   Unknown names (``$__timeFilter`` and the other macros) are left alone.
2. The plugin's backend expands its macros (``pkg/macros/macros.go``): ``$__timeFilter(c)``,
   ``$__timeFilter_ms(c)``, ``$__dateFilter(c)``, ``$__fromTime``, ``$__toTime``,
   ``$__fromTime_ms``, ``$__toTime_ms``, ``$__interval_s``, ``$__timeInterval(c)``,
   ``$__timeInterval_ms(c)``; intervals are at least 1 second (1 ms for the ``_ms`` forms).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Value = str | Sequence[str]

_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)
"""Grafana's variable regex (``variableRegex`` of the template service)."""

_MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")


@dataclass(frozen=True)
class Request:
    """A panel query as Grafana sends it: time range, interval and variable values."""

    time_from: datetime
    time_to: datetime
    interval: timedelta = timedelta(seconds=20)
    variables: Mapping[str, Value] = field(default_factory=dict)


def _values(value: Value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _quoted(value: Value, quote: str, escape: Callable[[str], str]) -> str:
    return ",".join(f"{quote}{escape(item)}{quote}" for item in _values(value))


def _sqlstring(item: str) -> str:
    # Grafana's sqlStringFormatter: ' doubled, " backslash-escaped; backslashes untouched.
    return item.replace("'", "''").replace('"', '\\"')


def _percentencode(value: Value) -> str:
    # encodeURIComponentStrict: encodeURIComponent plus ! ' ( ) * encoded; several values
    # are encoded as "{a,b}".
    text = value if isinstance(value, str) else "{" + ",".join(value) + "}"
    return urllib.parse.quote(text, safe="-_.~")


FORMATS: dict[str, Callable[[Value], str]] = {
    "sqlstring": lambda value: _quoted(value, "'", _sqlstring),
    "singlequote": lambda value: _quoted(value, "'", lambda item: item.replace("'", "\\'")),
    "doublequote": lambda value: _quoted(value, '"', lambda item: item.replace('"', '\\"')),
    "csv": lambda value: ",".join(_values(value)),
    "raw": lambda value: ",".join(_values(value)),
    "pipe": lambda value: "|".join(_values(value)),
    "percentencode": _percentencode,
    "json": lambda value: json.dumps(value if isinstance(value, str) else list(value),
                                     separators=(",", ":")),
}
"""Grafana's variable formats by name."""


def plugin_default_format(value: Value) -> str:
    """The ClickHouse plugin's format for a variable written without one."""
    if isinstance(value, str):
        return value
    return "'" + "','".join(value) + "'"


def interpolate(sql: str, variables: Mapping[str, Value]) -> str:
    """Step 1: Grafana's template service with the ClickHouse plugin's default format."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name not in variables:
            return match.group(0)
        if fmt is None:
            return plugin_default_format(variables[name])
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is not one this expander knows")
        return FORMATS[fmt](variables[name])

    return _VARIABLE.sub(replace, sql)


def expand_macros(sql: str, request: Request) -> str:
    """Step 2: the plugin backend's macros."""
    start, end = request.time_from, request.time_to
    seconds = max(int(request.interval.total_seconds()), 1)
    millis = max(int(request.interval / timedelta(milliseconds=1)), 1)

    def date_time(moment: datetime) -> str:
        return f"toDateTime({int(moment.timestamp())})"

    def date_time_ms(moment: datetime) -> str:
        return f"fromUnixTimestamp64Milli({int(moment.timestamp() * 1000)})"

    def date(moment: datetime) -> str:
        return f"toDate('{moment.strftime('%Y-%m-%d')}')"

    def between(column: str, convert: Callable[[datetime], str]) -> str:
        return f"{column} >= {convert(start)} AND {column} <= {convert(end)}"

    macros: dict[str, Callable[[str], str]] = {
        "timeFilter": lambda column: between(column, date_time),
        "timeFilter_ms": lambda column: between(column, date_time_ms),
        "dateFilter": lambda column: between(column, date),
        "fromTime": lambda _: date_time(start),
        "toTime": lambda _: date_time(end),
        "fromTime_ms": lambda _: date_time_ms(start),
        "toTime_ms": lambda _: date_time_ms(end),
        "interval_s": lambda _: str(seconds),
        "timeInterval": lambda column: (
            f"toStartOfInterval(toDateTime({column}), INTERVAL {seconds} second)"
        ),
        "timeInterval_ms": lambda column: (
            f"toStartOfInterval(toDateTime64({column}, 3), INTERVAL {millis} millisecond)"
        ),
    }
    takes_column = {"timeFilter", "timeFilter_ms", "dateFilter", "timeInterval",
                    "timeInterval_ms"}

    def replace(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2)
        if name not in macros:
            raise ValueError(f"$__{name} is not a macro of the ClickHouse plugin")
        if (name in takes_column) != (argument is not None):
            raise ValueError(f"$__{name}: wrong use of arguments in {match.group(0)!r}")
        return macros[name]((argument or "").strip())

    return _MACRO.sub(replace, sql)


def expand(sql: str, request: Request) -> str:
    """The SQL ClickHouse receives for a panel query."""
    return expand_macros(interpolate(sql, request.variables), request)
