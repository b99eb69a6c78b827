"""Encode finished OpenTelemetry spans as ``otel_traces`` rows.

The row layout and the stringification of attribute values follow the OpenTelemetry
Collector's ClickHouse exporter (see ``queries/schema/otel_traces.sql``), so rows written by
this SDK and rows written by a Collector are indistinguishable to the queries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.util.types import AttributeValue

_STATUS = {StatusCode.UNSET: "Unset", StatusCode.OK: "Ok", StatusCode.ERROR: "Error"}
_KIND = {
    SpanKind.INTERNAL: "Internal",
    SpanKind.SERVER: "Server",
    SpanKind.CLIENT: "Client",
    SpanKind.PRODUCER: "Producer",
    SpanKind.CONSUMER: "Consumer",
}


def attribute_string(value: AttributeValue) -> str:
    """Stringify one attribute value the way the Collector's ``pcommon.Value.AsString`` does."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_string(value)
    items = [_json_number(item) if isinstance(item, float) else item for item in value]
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False)


def _float_string(value: float) -> str:
    """Go's shortest float formatting (``1.0`` -> ``1``, ``1e-07`` -> ``1e-7``)."""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"


def _json_number(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 1e21 else value


def attribute_map(attributes: Mapping[str, AttributeValue] | None) -> dict[str, str]:
    """Stringify an attribute mapping for a ``Map(LowCardinality(String), String)`` column."""
    if not attributes:
        return {}
    return {key: attribute_string(value) for key, value in attributes.items()}


def _timestamp(nanos: int) -> str:
    seconds, fraction = divmod(nanos, 1_000_000_000)
    return f"{seconds}.{fraction:09d}"


def span_row(span: ReadableSpan) -> dict[str, Any]:
    """One ``otel_traces`` row (JSONEachRow object) for a finished span."""
    context = span.context
    resource = span.resource.attributes if span.resource else {}
    scope = span.instrumentation_scope
    start = span.start_time or 0
    end = span.end_time or start
    events: Sequence[Any] = span.events or ()
    links: Sequence[Any] = span.links or ()
    return {
        "Timestamp": _timestamp(start),
        "TraceId": format(context.trace_id, "032x"),
        "SpanId": format(context.span_id, "016x"),
        "ParentSpanId": format(span.parent.span_id, "016x") if span.parent else "",
        "TraceState": context.trace_state.to_header() if context.trace_state else "",
        "SpanName": span.name,
        "SpanKind": _KIND.get(span.kind, "Unspecified"),
        "ServiceName": str(resource.get("service.name", "")),
        "ResourceAttributes": attribute_map(resource),
        "ScopeName": scope.name if scope else "",
        "ScopeVersion": (scope.version or "") if scope else "",
        "SpanAttributes": attribute_map(span.attributes),
        "Duration": max(end - start, 0),
        "StatusCode": _STATUS[span.status.status_code],
        "StatusMessage": span.status.description or "",
        "Events.Timestamp": [_timestamp(event.timestamp) for event in events],
        "Events.Name": [event.name for event in events],
        "Events.Attributes": [attribute_map(event.attributes) for event in events],
        "Links.TraceId": [format(link.context.trace_id, "032x") for link in links],
        "Links.SpanId": [format(link.context.span_id, "016x") for link in links],
        "Links.TraceState": [
            link.context.trace_state.to_header() if link.context.trace_state else ""
            for link in links
        ],
        "Links.Attributes": [attribute_map(link.attributes) for link in links],
    }


def encode_jsonl(spans: Iterable[ReadableSpan]) -> bytes:
    """JSONEachRow bytes for a batch of spans."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return "".join(dumps(span_row(span)) + "\n" for span in spans).encode()
