"""OTLP protobuf back into SDK spans: how the outbox replays a stored request through any
span exporter (OTLP, ClickHouse, spool) without a second row mapping.

Only what the OTLP encoder writes is read back; dropped-attribute counts are not kept.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

_REMOTE = 0x200
"""``SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK``: the parent span context is remote."""


def spans_from_request(payload: bytes) -> list[ReadableSpan]:
    """The spans of a serialized ``ExportTraceServiceRequest``; raises on a corrupt payload."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(payload)
    spans: list[ReadableSpan] = []
    for resource_spans in request.resource_spans:
        resource = Resource(
            _attributes(resource_spans.resource.attributes), resource_spans.schema_url
        )
        for scope_spans in resource_spans.scope_spans:
            scope = InstrumentationScope(
                scope_spans.scope.name,
                scope_spans.scope.version or None,
                scope_spans.schema_url or None,
                _attributes(scope_spans.scope.attributes) or None,
            )
            spans.extend(_span(span, resource, scope) for span in scope_spans.spans)
    return spans


def _span(span: Any, resource: Resource, scope: InstrumentationScope) -> ReadableSpan:
    context = _context(span.trace_id, span.span_id, span.trace_state, span.flags)
    parent = (
        _context(span.trace_id, span.parent_span_id, "", 0, remote=bool(span.flags & _REMOTE))
        if span.parent_span_id
        else None
    )
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=_attributes(span.attributes),
        events=[
            Event(event.name, _attributes(event.attributes), event.time_unix_nano)
            for event in span.events
        ],
        links=[
            Link(
                _context(link.trace_id, link.span_id, link.trace_state, link.flags),
                _attributes(link.attributes),
            )
            for link in span.links
        ],
        kind=SpanKind(max(span.kind - 1, 0)),
        status=_status(span.status),
        start_time=span.start_time_unix_nano,
        end_time=span.end_time_unix_nano,
        instrumentation_scope=scope,
    )


def _status(status: Any) -> Status:
    code = StatusCode(status.code)
    return Status(code, status.message or None) if code is StatusCode.ERROR else Status(code)


def _context(
    trace_id: bytes, span_id: bytes, trace_state: str, flags: int, remote: bool = False
) -> SpanContext:
    return SpanContext(
        int.from_bytes(trace_id, "big"),
        int.from_bytes(span_id, "big"),
        is_remote=remote,
        # Only sampled spans are exported, and the encoder keeps no trace flags.
        trace_flags=TraceFlags(flags & 0xFF or TraceFlags.SAMPLED),
        trace_state=TraceState.from_header([trace_state]) if trace_state else None,
    )


def _attributes(key_values: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in key_values}


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(item) for item in value.array_value.values)
    if kind == "kvlist_value":  # not an SDK attribute type: keep it readable
        return str({item.key: _value(item.value) for item in value.kvlist_value.values})
    return getattr(value, kind) if kind else None
