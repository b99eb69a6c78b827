"""The outbox on disk: lossless OTLP files, bounds by bytes and files, quarantine of a file
that does not decode, and one deliverer at a time (real files, real SDK spans)."""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from mltrace_otel.sdk.outbox import QUARANTINE, Outbox


def _spans(count: int = 3) -> list[ReadableSpan]:
    """Real SDK spans with every field the encoder writes."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "svc", "team": "ml"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("mltrace_otel", "1.2.3")
    with tracer.start_as_current_span("pipeline", kind=SpanKind.SERVER) as parent:
        for index in range(count - 1):
            with tracer.start_as_current_span(
                f"stage-{index}",
                attributes={
                    "mltrace.component.name": f"stage-{index}",
                    "mltrace.run.inputs": ("a.csv", "b\u00e9.csv"),
                    "mltrace.run.staleness_threshold": 2_592_000,
                    "ratio": 0.25,
                    "ok": True,
                    "flags": (True, False),
                },
                links=[Link(parent.get_span_context(), {"mltrace.link.pointer": "a.csv"})],
            ) as span:
                span.add_event("mltrace.test", {"mltrace.test.passed": False}, 1_700_000_000)
                span.set_status(Status(StatusCode.ERROR, "ValueError: bad row"))
    return list(memory.get_finished_spans())


def _delivered(outbox: Outbox) -> list[list[ReadableSpan]]:
    batches: list[list[ReadableSpan]] = []
    assert outbox.deliver(lambda spans: batches.append(spans) is None) is True
    return batches


def test_a_batch_comes_back_exactly_as_it_was_encoded(tmp_path: Path) -> None:
    spans = _spans()
    outbox = Outbox(tmp_path / "outbox")
    assert outbox.put(spans) == 0
    assert outbox.pending_spans() == 3
    (batch,) = _delivered(outbox)
    assert encode_spans(batch).SerializeToString() == encode_spans(spans).SerializeToString()
    assert outbox.files() == []
    assert sorted(path.name for path in (tmp_path / "outbox").iterdir()) == [".lock"]


def test_the_bounds_drop_the_oldest_batches(tmp_path: Path) -> None:
    by_files = Outbox(tmp_path / "files", max_files=2)
    assert [by_files.put(_spans(count)) for count in (2, 3, 4)] == [0, 0, 2]
    assert by_files.pending_spans() == 7

    size = len(encode_spans(_spans(3)).SerializeToString())
    by_bytes = Outbox(tmp_path / "bytes", max_bytes=2 * size + size // 2)
    assert [by_bytes.put(_spans(3)) for _ in range(4)] == [0, 0, 3, 3]
    assert len(by_bytes.files()) == 2


def test_a_file_that_does_not_decode_is_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.put(_spans(2))
    damaged = tmp_path / "outbox" / "00000000000000000001-1-deadbeef-5.binpb"
    damaged.write_bytes(b"\xff\xfe not protobuf")
    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
        (batch,) = _delivered(outbox)
    assert len(batch) == 2
    assert (tmp_path / "outbox" / QUARANTINE / damaged.name).is_file()
    assert [record.getMessage() for record in caplog.records if damaged.name in record.getMessage()]


def test_one_deliverer_at_a_time_and_failures_keep_the_file(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.put(_spans(2))
    outbox.put(_spans(3))
    with open(tmp_path / "outbox" / ".lock", "a") as held:  # another deliverer holds the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        assert outbox.deliver(lambda spans: True) is False
    assert outbox.pending_spans() == 5
    attempts: list[int] = []
    assert outbox.deliver(lambda spans: attempts.append(len(spans)) is not None) is False
    assert attempts == [2]  # stops at the first failure, oldest first
    assert outbox.pending_spans() == 5
