"""Spans that can be stored and sent: what to do with a run that cannot be encoded as logged.

Two things in a finished span can make a whole batch fail to encode, in Arrow for the store as
in protobuf for OTLP: text that is not valid UTF-8 (a pointer name from ``os.listdir`` holding
a Latin-1 file name arrives as surrogate escapes) and times outside what a backend holds
(OTLP carries unsigned nanoseconds since 1970; ``DateTime64(9)`` ends in April 2262). Such a
span is repaired alone, its neighbours untouched:

- invalid text gets backslash escapes of the bytes (``caf\\xe9.csv``) or, for a lone
  surrogate, of the code point (``\\udc80``), before any JSON is made of it;
- times are clamped into ``EARLIEST_NS .. LATEST_NS``: the original start is kept in
  ``mltrace.original.start_time_unix_nano``, the duration is kept when it fits and shortened
  to end at ``LATEST_NS`` when not;
- ``mltrace.repaired`` lists what was changed; one warning names the run.

A span that cannot be repaired (a time that is not a number) is left out alone, with one
warning. Light on purpose: pipeline processes import it (no pyarrow).
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, Status

from mltrace_otel import semconv

logger = logging.getLogger("mltrace_otel")

EARLIEST_NS: Final = 0
"""1970-01-01T00:00:00Z: OTLP carries times as unsigned nanoseconds since the epoch, so no
span that reaches ``otel_traces`` through a Collector starts earlier."""

LATEST_NS: Final = 9_214_646_400 * 1_000_000_000
"""2262-01-01T00:00:00Z: the start of the last year ``DateTime64(9)`` holds (it ends at
2262-04-11T23:47:16.854775807Z), leaving room for the end times the store computes."""

_ESCAPE: Final = "mltrace_otel.escape"


def _escape_invalid(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: surrogate-escaped bytes as ``\\xNN``, lone surrogates as
    ``\\uNNNN``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escapes = [
        f"\\x{ord(char) - 0xDC00:02x}" if 0xDC80 <= ord(char) <= 0xDCFF else f"\\u{ord(char):04x}"
        for char in error.object[error.start:error.end]
    ]
    return "".join(escapes), error.end


codecs.register_error(_ESCAPE, _escape_invalid)


def valid_text(value: str) -> str:
    """``value`` with what is not valid UTF-8 backslash-escaped (unchanged when valid)."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", _ESCAPE).decode("utf-8")


def in_range(time: Any) -> bool:
    """Whether ``time`` is an int of nanoseconds every backend holds."""
    return isinstance(time, int) and EARLIEST_NS <= time <= LATEST_NS


def describe(span: ReadableSpan) -> str:
    """How warnings name a span: its run name (``repr``: printable even when not UTF-8) and ids."""
    context = span.context
    span_id = format(context.span_id, "016x") if context else "-"
    trace_id = format(context.trace_id, "032x") if context else "-"
    return f"run {span.name!r} (span {span_id}, trace {trace_id})"


def sendable_spans(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """``spans`` with each span that cannot be encoded as logged repaired or left out, alone,
    with one warning naming it (for exporters that would otherwise fail the whole batch)."""
    if all(_sound(span) for span in spans):
        return list(spans)
    kept: list[ReadableSpan] = []
    for span in spans:
        if _sound(span):
            kept.append(span)
            continue
        try:
            repaired, notes = repaired_span(span)
        except Exception as error:  # whatever the value, only this span is affected
            logger.warning("mltrace: %s could not be sent and was left out: %s: %s",
                           describe(span), type(error).__name__, error)
            continue
        logger.warning("mltrace: %s could not be sent as logged; sent with %s",
                       describe(span), "; ".join(notes))
        kept.append(repaired)
    return kept


def repaired_span(span: ReadableSpan) -> tuple[ReadableSpan, list[str]]:
    """A copy of ``span`` with valid text and times in range, and what was changed (one phrase
    each, also in its ``mltrace.repaired`` attribute). Raises when a time is not a number."""
    changes: set[str] = set()

    def text(value: Any) -> str:
        if not isinstance(value, str):
            changes.add("a value that was not text written as text")
            value = str(value)
        fixed = valid_text(value)
        if fixed is not value:
            changes.add("text that was not valid UTF-8 backslash-escaped")
        return fixed

    def value(item: Any) -> Any:
        if isinstance(item, str):
            return text(item)
        if isinstance(item, (list, tuple)):
            return tuple(value(element) for element in item)
        if isinstance(item, Mapping):
            return {text(key): value(element) for key, element in item.items()}
        return item

    def attributes(items: Any) -> dict[str, Any]:
        return {text(key): value(item) for key, item in (items or {}).items()}

    span_attributes = attributes(span.attributes)
    events = [Event(text(e.name), attributes(e.attributes), e.timestamp) for e in span.events]
    links = [Link(link.context, attributes(link.attributes)) for link in span.links]
    resource = Resource(attributes(span.resource.attributes)) if span.resource else None
    scope, status = span.instrumentation_scope, span.status
    name = text(span.name)
    notes = sorted(changes)
    start, end, events = _clamped_times(span, events, span_attributes, notes)
    if notes:
        span_attributes[semconv.REPAIRED] = "; ".join(notes)
    repaired = ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=resource,
        attributes=span_attributes,
        events=events,
        links=links,
        kind=span.kind,
        status=Status(status.status_code, text(status.description))
        if status.description else Status(status.status_code),
        start_time=start,
        end_time=end,
        instrumentation_scope=InstrumentationScope(
            text(scope.name), text(scope.version) if scope.version else None
        ) if scope else None,
    )
    return repaired, notes


def _clamped_times(
    span: ReadableSpan, events: list[Event], attributes: dict[str, Any], notes: list[str]
) -> tuple[int, int, list[Event]]:
    start = int(span.start_time or 0)  # int() of NaN or infinity raises: left out
    end = int(span.end_time if span.end_time is not None else start)
    new_start = clamp(start)
    if new_start != start:
        attributes[semconv.ORIGINAL_START_TIME] = str(start)
        notes.append(f"start {date(start)} clamped to {date(new_start)}")
    duration = max(end - start, 0)  # a span ending before it starts is stored as Duration 0
    if duration > LATEST_NS - new_start:
        duration = LATEST_NS - new_start
        notes.append(f"end clamped to {date(LATEST_NS)}")
    new_end = new_start + duration
    clamped_events = [Event(e.name, e.attributes, clamp(int(e.timestamp))) for e in events]
    if any(e.timestamp != c.timestamp for e, c in zip(events, clamped_events)):
        notes.append("event times clamped")
    return new_start, new_end, clamped_events


def clamp(time: int) -> int:
    """``time`` clamped into ``EARLIEST_NS .. LATEST_NS``."""
    return min(max(time, EARLIEST_NS), LATEST_NS)


def date(nanos: int) -> str:
    """An ISO 8601 UTC date for a warning (nanoseconds when beyond what Python dates hold)."""
    try:
        moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=nanos // 1000)
    except OverflowError:
        return f"{nanos} ns since 1970"
    return moment.isoformat().replace("+00:00", "Z")


def _sound(span: ReadableSpan) -> bool:
    """Whether ``span`` encodes as logged: valid text everywhere, every time in range."""
    start, end = span.start_time, span.end_time
    if not in_range(start) or (end is not None and not in_range(end)):
        return False
    try:
        _check_text(span.name)
        _check_attributes(span.attributes)
        _check_attributes(span.resource.attributes if span.resource else None)
        for event in span.events:
            if not in_range(event.timestamp):
                return False
            _check_text(event.name)
            _check_attributes(event.attributes)
        for link in span.links:
            _check_attributes(link.attributes)
        _check_text(span.status.description or "")
        scope = span.instrumentation_scope
        if scope:
            _check_text(scope.name)
            _check_text(scope.version or "")
    except (UnicodeEncodeError, TypeError, AttributeError):
        return False
    return True


def _check_text(value: str) -> None:
    value.encode("utf-8")


def _check_attributes(attributes: Mapping[str, Any] | None) -> None:
    for key, value in (attributes or {}).items():
        key.encode("utf-8")
        if isinstance(value, str):
            value.encode("utf-8")
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, str):
                    item.encode("utf-8")
