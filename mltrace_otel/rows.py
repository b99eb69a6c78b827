"""The ``otel_traces`` row mapping: finished spans as the rows the Collector's ClickHouse
exporter writes, in one Arrow table.

Two sources map to the same rows: OpenTelemetry SDK spans (the spool exporter and the
``clickhouse`` backend) and OTLP ``ExportTraceServiceRequest`` messages (``mltrace serve``'s
OTLP receiver). Both follow ``exporter/clickhouseexporter`` v0.165.1 ``pushTraceData``:
ServiceName is the resource's ``service.name``; attribute maps hold ``AsString`` of each value
(:mod:`mltrace_otel._pcommon`), sorted by key; ids are lowercase hex, empty when all zero;
SpanKind and StatusCode are pdata's ``String()`` names (``Internal``, ``Error``); Timestamp is
the start, Duration ``end - start`` in nanoseconds. One deliberate difference: a span that
ends before it starts gets Duration 0, where the exporter stores the wrapped unsigned
difference.

A batch is encoded column by column (fast). When that fails, or a start, end or event time
lies outside 1970-01-01 .. 2262-01-01, the batch is encoded span by span: a span that cannot
be stored as sent is repaired by :mod:`mltrace_otel.repair`'s rules (invalid UTF-8
backslash-escaped, times clamped, ``mltrace.repaired`` saying what was changed) and, if still
not storable, left out alone. Each repaired or left-out span is named in one warning; its
neighbours are never lost.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from mltrace_otel import semconv
from mltrace_otel._pcommon import any_value_string, sdk_value_string
from mltrace_otel.arrow_columns import int32s, int64s, strings, uint64s
from mltrace_otel.repair import (
    EARLIEST_NS,
    LATEST_NS,
    clamp,
    date,
    describe,
    in_range,
    repaired_span,
)

__all__ = [
    "SCHEMA",
    "Batch",
    "any_value_string",
    "arrow_file",
    "attribute_items",
    "attribute_string",
    "encode_arrow",
    "encode_request",
    "encode_spans",
    "spans_table",
]

logger = logging.getLogger("mltrace_otel")

_TIME = pa.timestamp("ns", tz="UTC")
_MAP = pa.map_(pa.string(), pa.string())
_STRING = pa.string()

SCHEMA = pa.schema([
    ("Timestamp", _TIME),
    ("TraceId", _STRING),
    ("SpanId", _STRING),
    ("ParentSpanId", _STRING),
    ("TraceState", _STRING),
    ("SpanName", _STRING),
    ("SpanKind", _STRING),
    ("ServiceName", _STRING),
    ("ResourceAttributes", _MAP),
    ("ScopeName", _STRING),
    ("ScopeVersion", _STRING),
    ("SpanAttributes", _MAP),
    ("Duration", pa.uint64()),
    ("StatusCode", _STRING),
    ("StatusMessage", _STRING),
    ("Events.Timestamp", pa.list_(_TIME)),
    ("Events.Name", pa.list_(_STRING)),
    ("Events.Attributes", pa.list_(_MAP)),
    ("Links.TraceId", pa.list_(_STRING)),
    ("Links.SpanId", pa.list_(_STRING)),
    ("Links.TraceState", pa.list_(_STRING)),
    ("Links.Attributes", pa.list_(_MAP)),
])
"""``otel_traces`` as the exporter's insert names its columns (Nested as flat arrays)."""

# pdata's SpanKind.String() / StatusCode.String(), indexed by the OTLP enum value.
_OTLP_KIND = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
_OTLP_STATUS = ("Unset", "Ok", "Error")
_SDK_KIND = {
    SpanKind.INTERNAL: "Internal",
    SpanKind.SERVER: "Server",
    SpanKind.CLIENT: "Client",
    SpanKind.PRODUCER: "Producer",
    SpanKind.CONSUMER: "Consumer",
}
_SDK_STATUS = {StatusCode.UNSET: "Unset", StatusCode.OK: "Ok", StatusCode.ERROR: "Error"}

_ENCODE_ERRORS = (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError)


@dataclass(frozen=True)
class Batch:
    """The rows of a batch of spans, and the spans that needed repair or were left out."""

    table: pa.Table
    repaired: tuple[str, ...] = ()
    """One line per span stored after repair: which span and what was changed."""
    rejected: tuple[str, ...] = ()
    """One line per span left out: which span and why."""


# -- public API ---------------------------------------------------------------------------


def spans_table(spans: Sequence[ReadableSpan]) -> pa.Table:
    """The ``otel_traces`` rows of a batch of finished SDK spans (bad spans repaired or
    left out, with a warning)."""
    return encode_spans(spans).table


def encode_arrow(spans: Sequence[ReadableSpan]) -> bytes:
    """An Arrow IPC file holding the ``otel_traces`` rows of a batch of SDK spans.

    The Arrow memory the batch needed goes back to the system once the file is built: a
    logging process encodes one batch every few thousand runs, and Arrow's allocator would
    keep its peak (~50 MiB of a logging process's RSS, bench/bench_logging.py --rss-runs).
    """
    payload = arrow_file(spans_table(spans))
    pa.default_memory_pool().release_unused()
    return payload


def encode_spans(spans: Sequence[ReadableSpan]) -> Batch:
    """The ``otel_traces`` rows of finished SDK spans, with what was repaired or left out."""
    try:
        table = _sdk_table(spans)
    except Exception:  # the general path below encodes, repairs or raises as it must
        table = None
    if table is not None:
        return Batch(table)
    return _robust_table(
        _sdk_columns(spans), lambda row: describe(spans[row]), _repair_sdk_row(spans)
    )


def encode_request(request: Any) -> Batch:
    """The ``otel_traces`` rows of an OTLP ``ExportTraceServiceRequest``.

    Spans the exporter could not store either (ids of the wrong length) are rejected and
    listed in ``Batch.rejected``, as OTLP's ``partial_success`` reports them.
    """
    columns, sources, rejected = _otlp_columns(request)
    batch = _robust_table(columns, lambda row: _describe_otlp(sources[row]), _repair_otlp_row)
    return Batch(batch.table, batch.repaired, tuple(rejected) + batch.rejected)


def arrow_file(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC file (what the spool holds)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, SCHEMA) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def attribute_string(value: Any) -> str:
    """Stringify one SDK attribute value the way the Collector's ``pcommon.Value.AsString`` does."""
    return sdk_value_string(value)


def attribute_items(attributes: Any) -> list[tuple[str, str]]:
    """Key/value pairs of a ``Map(LowCardinality(String), String)`` column, sorted by key as
    the exporter inserts them."""
    if not attributes:
        return []
    # copy(): a plain dict of the SDK's BoundedAttributes, iterated far faster than its view.
    plain = attributes.copy() if hasattr(attributes, "copy") else attributes
    return sorted([(key, sdk_value_string(value)) for key, value in plain.items()])


# -- SDK spans ----------------------------------------------------------------------------


def _hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x") if value else ""


def _trace_state(state: Any) -> str:
    return state.to_header() if state else ""


def _sdk_columns(spans: Sequence[ReadableSpan]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    resources: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for span in spans:
        context = span.context
        resource = span.resource
        if id(resource) not in resources:
            attributes = resource.attributes if resource else {}
            service = attributes.get("service.name")
            resources[id(resource)] = (
                "" if service is None else sdk_value_string(service),
                attribute_items(attributes),
            )
        service, resource_items = resources[id(resource)]
        scope = span.instrumentation_scope
        start = span.start_time or 0
        end = span.end_time or start
        events = span.events or ()
        links = span.links or ()
        parent = span.parent
        for name, value in (
            ("Timestamp", start),
            ("TraceId", _hex_id(context.trace_id, 32)),
            ("SpanId", _hex_id(context.span_id, 16)),
            ("ParentSpanId", _hex_id(parent.span_id, 16) if parent else ""),
            ("TraceState", _trace_state(context.trace_state)),
            ("SpanName", span.name),
            ("SpanKind", _SDK_KIND.get(span.kind, "Unspecified")),
            ("ServiceName", service),
            ("ResourceAttributes", resource_items),
            ("ScopeName", scope.name if scope else ""),
            ("ScopeVersion", (scope.version or "") if scope else ""),
            ("SpanAttributes", attribute_items(span.attributes)),
            ("Duration", end - start if end > start else 0),
            ("StatusCode", _SDK_STATUS.get(span.status.status_code, "")),
            ("StatusMessage", span.status.description or ""),
            ("Events.Timestamp", [event.timestamp for event in events]),
            ("Events.Name", [event.name for event in events]),
            ("Events.Attributes", [attribute_items(event.attributes) for event in events]),
            ("Links.TraceId", [_hex_id(link.context.trace_id, 32) for link in links]),
            ("Links.SpanId", [_hex_id(link.context.span_id, 16) for link in links]),
            ("Links.TraceState", [_trace_state(link.context.trace_state) for link in links]),
            ("Links.Attributes", [attribute_items(link.attributes) for link in links]),
        ):
            columns[name].append(value)
    return columns


_MAX_CACHED_STRINGS = 4096
_string_arrays: dict[tuple[str, ...], str] = {}
"""``AsString`` of tuple attribute values made of ``str`` only (pointer names, versions and
types repeat from run to run); at most ``_MAX_CACHED_STRINGS`` are kept."""


def _value_string(value: Any) -> str:
    """``sdk_value_string``, with tuples of strings remembered."""
    if type(value) is tuple:
        try:
            text = _string_arrays.get(value)
        except TypeError:  # an unhashable item: no cache
            return sdk_value_string(value)
        if text is not None:  # only all-str tuples are stored, and only they equal one
            return text
        text = sdk_value_string(value)
        if all(type(item) is str for item in value):
            if len(_string_arrays) >= _MAX_CACHED_STRINGS:
                _string_arrays.clear()
            _string_arrays[value] = text
        return text
    return sdk_value_string(value)


def _map_array(offsets: list[int], keys: list[str], values: list[str]) -> pa.Array:
    return pa.MapArray.from_arrays(
        int32s(offsets), strings(keys), strings(values), type=_MAP
    )


def _list_array(offsets: list[int], values: pa.Array, type: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(int32s(offsets), values, type=type)


def _sdk_table(spans: Sequence[ReadableSpan]) -> pa.Table | None:
    """The rows of a batch that needs no repair, built straight into Arrow arrays from flat
    lists, one list comprehension per column (no per-span row objects); None when some span
    needs the span-by-span path.

    Byte for byte the table ``_robust_table(_sdk_columns(spans), ...)`` builds for it."""
    count = len(spans)
    starts = [span.start_time or 0 for span in spans]
    durations = [
        end - start if end and end > start else 0
        for start, end in zip(starts, [span.end_time for span in spans])
    ]
    contexts = [span.context for span in spans]
    parents = [span.parent for span in spans]
    scopes = [span.instrumentation_scope for span in spans]
    statuses = [span.status for span in spans]
    kind_names, status_names = _SDK_KIND, _SDK_STATUS

    resources = [span.resource for span in spans]
    described: dict[int, tuple[str, list[str], list[str]]] = {}
    for resource in resources:
        if id(resource) not in described:
            attributes = resource.attributes if resource else {}
            service = attributes.get("service.name")
            items = attribute_items(attributes)
            described[id(resource)] = (
                "" if service is None else sdk_value_string(service),
                [key for key, _ in items],
                [value for _, value in items],
            )
    if len(described) == 1:  # the usual batch: one resource, its map repeated
        service, keys, values = next(iter(described.values()))
        services = [service] * count
        resource_keys, resource_values = keys * count, values * count
        resource_offsets = [len(keys) * row for row in range(count + 1)]
    else:
        services, resource_keys, resource_values, resource_offsets = [], [], [], [0]
        for resource in resources:
            service, keys, values = described[id(resource)]
            services.append(service)
            resource_keys.extend(keys)
            resource_values.extend(values)
            resource_offsets.append(len(resource_keys))

    attribute_offsets = [0]
    attribute_keys: list[str] = []
    attribute_values: list[str] = []
    event_offsets = [0]
    event_times: list[int] = []
    event_names: list[Any] = []
    event_attribute_offsets = [0]
    event_keys: list[str] = []
    event_values: list[str] = []
    link_offsets = [0]
    link_trace_ids: list[str] = []
    link_span_ids: list[str] = []
    link_states: list[str] = []
    link_attribute_offsets = [0]
    link_keys: list[str] = []
    link_values: list[str] = []
    value_string = _value_string
    shapes: dict[tuple[str, ...], tuple[list[str], Callable[[Any], Any]]] = {}
    link_ids: dict[tuple[int, int], tuple[str, str]] = {}

    def add_attributes(attributes: Any, offsets: list[int], keys: list[str],
                       values: list[str]) -> None:
        if attributes:
            plain = attributes.copy() if hasattr(attributes, "copy") else attributes
            shape = tuple(plain)  # spans of one component carry the same keys in one order
            known = shapes.get(shape)
            if known is None:
                ordered = sorted(plain)  # the keys are distinct: the order of the sorted pairs
                getter = operator.itemgetter(*ordered)
                known = shapes[shape] = (
                    ordered, getter if len(ordered) > 1 else lambda item: (getter(item),)
                )
            ordered, values_of = known
            keys.extend(ordered)
            values.extend([
                value if type(value) is str else value_string(value)
                for value in values_of(plain)
            ])
        offsets.append(len(keys))

    for span in spans:
        add_attributes(span.attributes, attribute_offsets, attribute_keys, attribute_values)
        # The SDK's own sequences: its ``events``/``links`` properties copy each into a new
        # tuple under a lock (~2 us a span each); a span whose class lacks them raises here
        # and the batch takes the general path.
        events = span._events
        if events:
            for event in events:
                event_times.append(event.timestamp)
                event_names.append(event.name)
                add_attributes(event.attributes, event_attribute_offsets, event_keys,
                               event_values)
        event_offsets.append(len(event_names))
        links = span._links
        if links:
            for link in links:
                link_context = link.context
                ids = (link_context.trace_id, link_context.span_id)
                hex_ids = link_ids.get(ids)  # runs that read one input link to one producer
                if hex_ids is None:
                    hex_ids = link_ids[ids] = (_hex_id(ids[0], 32), _hex_id(ids[1], 16))
                link_trace_ids.append(hex_ids[0])
                link_span_ids.append(hex_ids[1])
                link_states.append(_trace_state(link_context.trace_state))
                add_attributes(link.attributes, link_attribute_offsets, link_keys, link_values)
        link_offsets.append(len(link_span_ids))
    if not _timesin_range({"Timestamp": starts, "Duration": durations,
                           "Events.Timestamp": [event_times]}):
        return None
    time_list, string_list = SCHEMA.field("Events.Timestamp").type, pa.list_(_STRING)
    map_list = SCHEMA.field("Events.Attributes").type
    arrays = [
        int64s(starts, _TIME),
        strings([_hex_id(context.trace_id, 32) for context in contexts]),
        strings([_hex_id(context.span_id, 16) for context in contexts]),
        strings([_hex_id(parent.span_id, 16) if parent else "" for parent in parents]),
        strings([_trace_state(context.trace_state) for context in contexts]),
        strings([span.name for span in spans]),
        strings([kind_names.get(span.kind, "Unspecified") for span in spans]),
        strings(services),
        _map_array(resource_offsets, resource_keys, resource_values),
        strings([scope.name if scope else "" for scope in scopes]),
        strings([(scope.version or "") if scope else "" for scope in scopes]),
        _map_array(attribute_offsets, attribute_keys, attribute_values),
        uint64s(durations),
        strings([status_names.get(status.status_code, "") for status in statuses]),
        strings([status.description or "" for status in statuses]),
        _list_array(event_offsets, int64s(event_times, _TIME), time_list),
        _list_array(event_offsets, strings(event_names), string_list),
        _list_array(event_offsets, _map_array(event_attribute_offsets, event_keys,
                                              event_values), map_list),
        _list_array(link_offsets, strings(link_trace_ids), string_list),
        _list_array(link_offsets, strings(link_span_ids), string_list),
        _list_array(link_offsets, strings(link_states), string_list),
        _list_array(link_offsets, _map_array(link_attribute_offsets, link_keys, link_values),
                    map_list),
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


# -- OTLP requests ------------------------------------------------------------------------


class _BadSpan(ValueError):
    """A span the exporter could not store either (ids of the wrong length)."""


def _otlp_id(value: bytes, size: int, what: str) -> str:
    if not value:
        return ""
    if len(value) != size:
        raise _BadSpan(f"{what} has {len(value)} bytes, not {size}")
    text = value.hex()
    return text if text.strip("0") else ""


def _otlp_items(key_values: Any) -> list[tuple[str, str]]:
    if not key_values:
        return []
    return sorted([(pair.key, any_value_string(pair.value)) for pair in key_values])


def _otlp_columns(request: Any) -> tuple[dict[str, list[Any]], list[Any], list[str]]:
    """Columns of the storable spans, those spans (for warnings), descriptions of rejected ones."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    timestamps, trace_ids, span_ids, parent_ids = (
        columns["Timestamp"], columns["TraceId"], columns["SpanId"], columns["ParentSpanId"]
    )
    sources: list[Any] = []
    rejected: list[str] = []
    for resource_spans in request.resource_spans:
        resource_attributes = resource_spans.resource.attributes
        service = next(
            (any_value_string(pair.value) for pair in resource_attributes
             if pair.key == "service.name"),
            "",
        )
        resource_items = _otlp_items(resource_attributes)
        for scope_spans in resource_spans.scope_spans:
            scope_name, scope_version = scope_spans.scope.name, scope_spans.scope.version
            for span in scope_spans.spans:
                try:
                    trace_id = _otlp_id(span.trace_id, 16, "trace_id")
                    span_id = _otlp_id(span.span_id, 8, "span_id")
                    parent_id = _otlp_id(span.parent_span_id, 8, "parent_span_id")
                    links = span.links
                    link_trace_ids = [_otlp_id(link.trace_id, 16, "link trace_id")
                                      for link in links]
                    link_span_ids = [_otlp_id(link.span_id, 8, "link span_id") for link in links]
                except _BadSpan as error:
                    rejected.append(f"{_describe_otlp(span)}: {error}")
                    continue
                sources.append(span)
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                events = span.events
                status = span.status
                timestamps.append(start)
                trace_ids.append(trace_id)
                span_ids.append(span_id)
                parent_ids.append(parent_id)
                columns["TraceState"].append(span.trace_state)
                columns["SpanName"].append(span.name)
                columns["SpanKind"].append(
                    _OTLP_KIND[span.kind] if 0 <= span.kind < len(_OTLP_KIND) else ""
                )
                columns["ServiceName"].append(service)
                columns["ResourceAttributes"].append(resource_items)
                columns["ScopeName"].append(scope_name)
                columns["ScopeVersion"].append(scope_version)
                columns["SpanAttributes"].append(_otlp_items(span.attributes))
                columns["Duration"].append(end - start if end > start else 0)
                columns["StatusCode"].append(
                    _OTLP_STATUS[status.code] if 0 <= status.code < len(_OTLP_STATUS) else ""
                )
                columns["StatusMessage"].append(status.message)
                columns["Events.Timestamp"].append([event.time_unix_nano for event in events])
                columns["Events.Name"].append([event.name for event in events])
                columns["Events.Attributes"].append([_otlp_items(e.attributes) for e in events])
                columns["Links.TraceId"].append(link_trace_ids)
                columns["Links.SpanId"].append(link_span_ids)
                columns["Links.TraceState"].append([link.trace_state for link in links])
                columns["Links.Attributes"].append([_otlp_items(link.attributes) for link in links])
    return columns, sources, rejected


def _describe_otlp(span: Any) -> str:
    span_id, trace_id = span.span_id.hex() or "-", span.trace_id.hex() or "-"
    return f"run {span.name!r} (span {span_id}, trace {trace_id})"


# -- robust table building ----------------------------------------------------------------


def _arrays(columns: dict[str, list[Any]]) -> tuple[list[pa.Array], set[str]]:
    """Arrow arrays of every column that encodes; the names of those that did not."""
    arrays: list[pa.Array] = []
    failed: set[str] = set()
    for field in SCHEMA:
        try:
            arrays.append(pa.array(columns[field.name], type=field.type))
        except _ENCODE_ERRORS:
            failed.add(field.name)
    return arrays, failed


def _timesin_range(columns: dict[str, list[Any]]) -> bool:
    """Whether every start, end (start + Duration) and event time lies within
    ``[EARLIEST_NS, LATEST_NS]``. Ends matter: the store computes them (``Timestamp +
    toIntervalNanosecond(Duration)``), and one past ``DateTime64(9)`` fails the whole insert."""
    starts = columns["Timestamp"]
    if not starts:
        return True
    events = [time for times in columns["Events.Timestamp"] for time in times]
    return (
        min(starts) >= EARLIEST_NS
        and max(map(operator.add, starts, columns["Duration"])) <= LATEST_NS
        and (not events or (min(events) >= EARLIEST_NS and max(events) <= LATEST_NS))
    )


Repair = Callable[[int, dict[str, Any]], tuple[dict[str, Any], list[str]]]
"""Row ``i`` (its current values given) made storable: the new values and what was changed
(recorded in their ``mltrace.repaired`` attribute)."""


def _robust_table(
    columns: dict[str, list[Any]], describe: Callable[[int], str], repair: Repair
) -> Batch:
    arrays, failed = _arrays(columns)
    if not failed and _timesin_range(columns):
        return Batch(pa.Table.from_arrays(arrays, schema=SCHEMA))
    return _span_by_span(columns, failed, describe, repair)


def _span_by_span(
    columns: dict[str, list[Any]],
    failed: set[str],
    describe: Callable[[int], str],
    repair: Repair,
) -> Batch:
    """Encode a batch that failed column-wise: repair or leave out each bad span alone."""
    keep: list[dict[str, Any]] = []
    repaired: list[str] = []
    rejected: list[str] = []
    for row in range(len(columns["Timestamp"])):
        values = {name: columns[name][row] for name in SCHEMA.names}
        if _storable(values, failed):
            keep.append(values)
            continue
        try:
            values, notes = repair(row, values)
            problem = "" if _storable(values, set(SCHEMA.names)) else "a value Arrow cannot hold"
        except Exception as error:  # whatever the value, only this span is affected
            notes, problem = [], f"{type(error).__name__}: {error}"
        if problem:
            rejected.append(f"{describe(row)}: {problem}")
            logger.warning(
                "mltrace: %s could not be stored and was left out: %s", describe(row), problem
            )
            continue
        keep.append(values)
        repaired.append(f"{describe(row)}: {'; '.join(notes)}")
        logger.warning(
            "mltrace: %s could not be stored as sent; stored with %s",
            describe(row), "; ".join(notes),
        )
    kept = {name: [values[name] for values in keep] for name in SCHEMA.names}
    arrays, still_failed = _arrays(kept)
    if still_failed:  # cannot happen: every kept row encoded on its own
        raise ValueError(f"columns {sorted(still_failed)} failed after per-span encoding")
    return Batch(pa.Table.from_arrays(arrays, schema=SCHEMA), tuple(repaired), tuple(rejected))


def _storable(values: dict[str, Any], names: set[str]) -> bool:
    """Whether one row encodes (in the columns ``names``) with every timestamp in range."""
    for field in SCHEMA:
        if field.name in names:
            try:
                pa.array([values[field.name]], type=field.type)
            except _ENCODE_ERRORS:
                return False
    start, duration = values["Timestamp"], values["Duration"]
    return (
        in_range(start)
        and isinstance(duration, int)
        and 0 <= duration <= LATEST_NS - start
        and all(in_range(time) for time in values["Events.Timestamp"])
    )




# -- repairs ------------------------------------------------------------------------------


def _repair_sdk_row(spans: Sequence[ReadableSpan]) -> Repair:
    """SDK spans are repaired as spans (text before any JSON is made of it), then mapped."""

    def repair(row: int, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        span, notes = repaired_span(spans[row])
        columns = _sdk_columns([span])
        return {name: column[0] for name, column in columns.items()}, notes

    return repair


def _repair_otlp_row(row: int, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """OTLP rows hold valid UTF-8 (protobuf checks it): only times can be out of range."""
    notes: list[str] = []
    start = values["Timestamp"]
    if clamp(start) != start:
        values["Timestamp"] = clamp(start)
        _add_attribute(values, semconv.ORIGINAL_START_TIME, str(start))
        notes.append(f"start {date(start)} clamped to {date(values['Timestamp'])}")
    room = LATEST_NS - values["Timestamp"]
    if values["Duration"] > room:
        values["Duration"] = room
        notes.append(f"end clamped to {date(LATEST_NS)}")
    event_times = [clamp(time) for time in values["Events.Timestamp"]]
    if event_times != values["Events.Timestamp"]:
        values["Events.Timestamp"] = event_times
        notes.append("event times clamped")
    if notes:
        _add_attribute(values, semconv.REPAIRED, "; ".join(notes))
    return values, notes


def _add_attribute(values: dict[str, Any], key: str, value: str) -> None:
    values["SpanAttributes"] = sorted([*values["SpanAttributes"], (key, value)])
