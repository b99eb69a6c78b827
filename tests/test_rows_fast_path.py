"""The fast SDK encoder (flat lists straight into Arrow arrays) writes the same Arrow file,
byte for byte, as the general column/span-by-span path, and leaves every batch that needs a
repair to that path."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceState

from mltrace_otel import rows

ODD_ATTRIBUTES = {
    "b": True, "i": 7, "f": 1e-7, "g": 1e21, "h": 0.1, "nan": float("nan"),
    "inf": float("-inf"), "by": b"\x00\xff", "ti": (1, 2), "tb": (True, False),
    "tf": (1.0, float("nan")), "ts": ("a", "\u2028", '"q"'), "empty": (), "m": {"a": 1},
    "tm": ({"b": 2},), "s": "\u00e9\U0001f600",
}


def _spans() -> list[ReadableSpan]:
    services = [
        TracerProvider(resource=Resource.create({"service.name": "svc", "n": 3, "f": 1.5})),
        TracerProvider(resource=Resource({})),
    ]
    spans = []
    for index, attributes in enumerate([ODD_ATTRIBUTES, {"z": "1", "a": "2"}, {}]):
        for provider in services:
            tracer = provider.get_tracer("scope", "1.0" if index else None)
            span = tracer.start_span(
                f"run-{index}",
                attributes=attributes,
                kind=[SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL][index],
                links=[
                    Link(SpanContext(0xABC, 0xDEF, False, trace_state=TraceState([("k", "v")])),
                         {"x": (1, 2), "p": "features.csv"}),
                    Link(SpanContext(1, 2, False), {}),
                    Link(SpanContext(1, 3, False), {"p": "model.pkl"}),  # one key: a tuple
                ],
            )
            span.add_event("test", {"a": 1, "b": ("x",)}, timestamp=1_700_000_000_000_000_000)
            span.add_event("bare")
            span.set_status(Status(StatusCode.ERROR, "bad") if index else Status(StatusCode.OK))
            span.end()
            spans.append(span)
    backwards = services[0].get_tracer("scope").start_span("backwards", start_time=2 * 10**18)
    backwards.end(end_time=10**18)
    spans.append(backwards)
    return spans


def _general(spans: list[ReadableSpan]) -> rows.Batch:
    return rows._robust_table(
        rows._sdk_columns(spans), lambda row: rows.describe(spans[row]),
        rows._repair_sdk_row(spans),
    )


@pytest.mark.parametrize("batch", ["empty", "one span", "one resource", "two resources"])
def test_fast_path_writes_the_same_file(batch: str) -> None:
    spans = _spans() * 3
    first = spans[0].resource
    spans = {
        "empty": [],
        "one span": spans[:1],
        "one resource": [span for span in spans if span.resource is first],
        "two resources": spans,
    }[batch]
    table = rows._sdk_table(spans)
    assert table is not None
    assert rows.arrow_file(table) == rows.arrow_file(_general(spans).table)


def test_batches_needing_repair_take_the_general_path(caplog: pytest.LogCaptureFixture) -> None:
    tracer = TracerProvider().get_tracer("scope")
    surrogate = tracer.start_span("surrogate", attributes={"k": "\ud800"})
    surrogate.end()
    future = tracer.start_span("future", start_time=9_300_000_000_000_000_000)
    future.end(end_time=9_300_000_000_000_000_001)
    for bad in (surrogate, future):
        spans = [*_spans(), bad]
        try:
            fast = rows._sdk_table(spans)
        except Exception:  # any failure hands the batch on
            fast = None
        assert fast is None
        with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
            batch = rows.encode_spans(spans)
        expected = _general(spans)
        assert rows.arrow_file(batch.table) == rows.arrow_file(expected.table)
        assert batch.repaired == expected.repaired and batch.rejected == expected.rejected
        assert batch.repaired


class _PublicOnly:
    """A span offering only ReadableSpan's public properties (another SDK's span class)."""

    def __init__(self, span: ReadableSpan) -> None:
        self._span = span

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._span, name)


def test_spans_without_the_sdk_internals_take_the_general_path() -> None:
    spans = _spans()
    wrapped = [_PublicOnly(span) for span in spans]
    batch = rows.encode_spans(wrapped)  # type: ignore[arg-type]
    assert rows.arrow_file(batch.table) == rows.arrow_file(rows._sdk_table(spans))
    assert not batch.repaired and not batch.rejected
