"""The row mapping against the real thing: one OTLP request full of unusual values (every
``AnyValue`` kind, NaN and infinities, nested maps and arrays, bytes, unknown enum values, zero
ids, a resource without ``service.name``) sent to the built Collector, whose ClickHouse
exporter writes into ``mltrace serve``, and to ``mltrace serve``'s own OTLP receiver gives the
same ``otel_traces`` rows; the one documented difference is a span that ends before it starts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from _otlp_support import post, store_rows
from _services import clickhouse_json, collector, free_port, serve, wait_until
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

DATABASE = "otelcol"
START = 1_763_800_000_000_000_000


def any_value(value: Any) -> AnyValue:
    """An ``AnyValue`` of a Python value (``None``: the empty value)."""
    result = AnyValue()
    if value is None:
        return result
    if isinstance(value, bool):
        result.bool_value = value
    elif isinstance(value, int):
        result.int_value = value
    elif isinstance(value, float):
        result.double_value = value
    elif isinstance(value, str):
        result.string_value = value
    elif isinstance(value, bytes):
        result.bytes_value = value
    elif isinstance(value, list):
        result.array_value.values.extend(any_value(item) for item in value)
    else:
        for key, item in value.items():
            result.kvlist_value.values.add(key=key, value=any_value(item))
    return result


UNUSUAL = {
    "text": "caf\u00e9 \u2028\u2029 <&> \"q\" \\ \t\n\x01 \U0001f600",
    "empty": None,
    "yes": True,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "zero": 0.0,
    "negative.zero": -0.0,
    "third": 1 / 3,
    "tiny": 1e-7,
    "small": 1.5e-5,
    "large": 1e21,
    "huge": 1.7976931348623157e308,
    "nan": math.nan,
    "inf": math.inf,
    "minus.inf": -math.inf,
    "bytes": b"\x00\x01\xfe\xff",
    "mixed": [1, 2.5, "three", True, None, b"\x07", [1.0, "nested"], {"k": "v"}],
    "nan.inside": [1.0, math.nan],
    "map": {"z": 1, "a": {"nested": [True, 1e-9]}, "\u2028": "sep", "<>": "&"},
    "empty.array": [],
    "empty.map": {},
}


def unusual_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    first = request.resource_spans.add()
    first.resource.attributes.add(key="service.name", value=any_value("parity \u00e9"))
    first.resource.attributes.add(key="host.cores", value=any_value(2))
    first.resource.attributes.add(key="build", value=any_value({"flags": ["-O2"], "n": 1.0}))
    scope_spans = first.scope_spans.add()
    scope_spans.scope.name, scope_spans.scope.version = "parity-scope", "9.9"
    for index, kind in enumerate([0, 1, 2, 3, 4, 5, 9]):
        span = scope_spans.spans.add(
            trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
            span_id=(index + 1).to_bytes(8, "big"), parent_span_id=b"\x00" * 8 if index else b"",
            name=f"kind-{kind}", kind=kind, trace_state="vendor=a,other=b",
            start_time_unix_nano=START + index, end_time_unix_nano=START + index + 1_234_567,
        )
        span.status.code, span.status.message = index % 4, f"status {index}"
        for key, value in UNUSUAL.items():
            span.attributes.add(key=key, value=any_value(value))
        event = span.events.add(name="event \u00e9", time_unix_nano=START + index + 10)
        event.attributes.add(key="nan", value=any_value(math.nan))
        event.attributes.add(key="list", value=any_value(["a", 1]))
        link = span.links.add(trace_id=b"\x11" * 16, span_id=b"\x22" * 8, trace_state="k=v")
        link.attributes.add(key="mltrace.link.pointer", value=any_value("model.pkl"))
    second = request.resource_spans.add()  # no service.name, an empty scope
    spans = second.scope_spans.add()
    spans.spans.add(trace_id=b"\x00" * 16, span_id=b"\x99" * 8, name="zero-trace",
                    start_time_unix_nano=START, end_time_unix_nano=START)
    spans.spans.add(trace_id=b"\x33" * 16, span_id=b"\x98" * 8, name="backwards",
                    start_time_unix_nano=START + 5_000, end_time_unix_nano=START)
    return request


def test_collector_exporter_and_receiver_write_the_same_rows(tmp_path: Path) -> None:
    home = tmp_path / "served"
    request = unusual_request()
    spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    with serve(home, tmp_path / "logs").start() as server:
        otelcol = collector(tmp_path / "collector", server.url, f"127.0.0.1:{free_port()}",
                            database=DATABASE)
        with otelcol.start():
            body = request.SerializeToString()
            status, _, answer = post(f"{otelcol.otlp_http_endpoint}/v1/traces", body)
            assert status == 200, answer
            status, _, answer = post(f"http://127.0.0.1:{server.otlp_port}/v1/traces", body)
            assert status == 200, answer

            def arrived() -> bool:
                rows = clickhouse_json(server.url, "SELECT count() AS n FROM otel_traces",
                                       DATABASE)
                return int(rows[0]["n"]) == spans

            wait_until(arrived, 60, f"{spans} spans through the Collector")
    query = "SELECT * FROM {}.otel_traces ORDER BY SpanId"
    by_collector = store_rows(home, query.format(DATABASE))
    by_receiver = store_rows(home, query.format("default"))
    assert len(by_receiver) == spans

    # The documented difference: the exporter stores end - start as a wrapped unsigned value.
    (collector_backwards,) = [row for row in by_collector if row["SpanName"] == "backwards"]
    (receiver_backwards,) = [row for row in by_receiver if row["SpanName"] == "backwards"]
    assert collector_backwards.pop("Duration") == 2**64 - 5_000
    assert receiver_backwards.pop("Duration") == 0

    assert by_receiver == by_collector
    attributes = by_receiver[0]["SpanAttributes"]
    assert attributes["nan"] == "NaN" and attributes["nan.inside"] == ""
    assert attributes["negative.zero"] == "-0" and attributes["large"] == "1e+21"
    assert {row["SpanKind"] for row in by_receiver} >= {"Unspecified", "Consumer", ""}
    assert [row["ServiceName"] for row in by_receiver if row["SpanName"] == "zero-trace"] == [""]
