"""Poison runs never drop their neighbours: runs that cannot be stored as logged (a pointer
name with undecodable bytes from ``os.listdir``, a start in year 1 or 3000, NaN and huge
values, a span ending before it starts) are repaired or left out alone, with one warning
naming each, through real spool files and the embedded store, and through OTLP."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from _otlp_support import post, running_receiver, store_rows
from _serve import serve_process
from _services import clickhouse_json
from _support import run_script, write_script
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

import mltrace_otel as mltrace
from mltrace_otel import repair, rows, semconv

GOOD_RUNS = 1_000

POISONED_PIPELINE = r'''
import os
import sys
from datetime import datetime

import mltrace_otel as mltrace

mltrace.configure(home=sys.argv[1])  # the backend: MLTRACE_BACKEND, default local
latin = os.fsdecode(b"caf\xe9-report.csv")  # what os.listdir gives for a Latin-1 file name


def log(name, output, start=None, end=None, **attributes):
    run = mltrace.ComponentRun(name)
    run.set_start_timestamp(start)
    run.set_end_timestamp(end)
    run.add_output(output)
    mltrace.log_component_run(run)


for index in range(1000):
    log("good", f"good-{index}.csv")
    if index == 100:
        log("latin", latin)
    if index == 200:
        log("year-one", "ancient.csv", datetime(1, 1, 1), datetime(1, 1, 2))
    if index == 300:
        log("year-3000", "future.csv", datetime(3000, 1, 1), datetime(3000, 1, 1, 0, 5))
    if index == 400:
        log("backwards", "backwards.csv", datetime(2024, 1, 2), datetime(2024, 1, 1))
    if index == 500:
        log(os.fsdecode(b"n\xe4me"), "named.csv")
print("flushed", mltrace.flush())
'''


def test_poison_runs_in_a_spool_batch_keep_their_neighbours(tmp_path: Path) -> None:
    home = tmp_path / "home"
    script = write_script(tmp_path, "poisoned.py", POISONED_PIPELINE)
    proc = run_script(script, home, str(home))
    assert proc.stdout.split() == ["flushed", "True"]
    warnings = [line for line in proc.stderr.splitlines() if "could not be stored" in line]
    assert len(warnings) == 4, proc.stderr  # latin, year-one, year-3000, the undecodable name
    assert any("'latin'" in line and "UTF-8" in line for line in warnings)
    assert any("'year-one'" in line and "0001-01-01" in line for line in warnings)
    assert any("'year-3000'" in line and "3000-01-01" in line for line in warnings)
    assert any("'n\\udce4me'" in line for line in warnings)
    assert "left out" not in proc.stderr

    mltrace.configure(backend="local", home=home)
    try:
        counts = dict(mltrace.query("SELECT SpanName, count() FROM otel_traces GROUP BY SpanName"))
        assert counts == {"good": GOOD_RUNS, "latin": 1, "year-one": 1, "year-3000": 1,
                          "backwards": 1, "n\\xe4me": 1}
        assert len(mltrace.get_history("good", limit=None)) == GOOD_RUNS

        (latin,) = mltrace.get_history("latin")
        assert latin.outputs == ["caf\\xe9-report.csv"]
        assert "UTF-8" in latin.attributes[semconv.REPAIRED]
        assert mltrace.backtrace("caf\\xe9-report.csv")[0][1].id == latin.id

        (ancient,) = mltrace.get_history("year-one")
        assert ancient.start_timestamp == datetime(1970, 1, 1, tzinfo=timezone.utc)
        original = int(ancient.attributes[semconv.ORIGINAL_START_TIME])
        assert original == mltrace.ComponentRun("x", datetime(1, 1, 1)).start_ns
        assert "clamped" in ancient.attributes[semconv.REPAIRED]
        (duration,) = mltrace.query(
            "SELECT Duration FROM otel_traces WHERE SpanName = 'year-one'"
        )[0]
        assert duration == 86_400 * 10**9  # the true duration is kept

        (future,) = mltrace.get_history("year-3000")
        assert future.start_timestamp == datetime(2262, 1, 1, tzinfo=timezone.utc)
        assert future.end_timestamp == future.start_timestamp  # the end is clamped too
        assert mltrace.backtrace("future.csv")[0][1].id == future.id

        (backwards,) = mltrace.get_history("backwards")
        assert semconv.REPAIRED not in backwards.attributes  # Duration 0 is the mapping
        assert mltrace.query("SELECT Duration FROM otel_traces WHERE SpanName = 'backwards'") == [
            (0,)
        ]
    finally:
        mltrace.configure(backend="local", home=tmp_path / "parked")


def sdk_span(name: str, span_id: int, start: object, end: object, **attributes: object
             ) -> ReadableSpan:
    context = SpanContext(0x1234, span_id, is_remote=False, trace_flags=TraceFlags(1))
    return ReadableSpan(name=name, context=context, resource=Resource({"service.name": "s"}),
                        attributes=attributes, start_time=start, end_time=end)


def test_unrepairable_span_is_left_out_alone_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spans = [
        sdk_span("before", 1, 10, 20, loss=math.nan, huge=10**30, scores=(1.0, math.nan)),
        sdk_span("broken", 2, math.nan, 20),  # no timestamp to clamp to
        sdk_span("after", 3, 30, 40),
    ]
    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
        batch = rows.encode_spans(spans)
    assert batch.table.column("SpanName").to_pylist() == ["before", "after"]
    assert len(batch.rejected) == 1 and "'broken'" in batch.rejected[0]
    assert batch.repaired == ()
    assert [record.getMessage() for record in caplog.records if "broken" in record.getMessage()]
    assert len(caplog.records) == 1
    attributes = dict(batch.table.column("SpanAttributes")[0].as_py())
    # pcommon's AsString: NaN as "NaN"; an array holding NaN is not JSON, so it is "".
    assert attributes == {"loss": "NaN", "huge": str(10**30), "scores": ""}


def test_otlp_poison_spans_keep_their_neighbours(tmp_path: Path) -> None:
    home = tmp_path / "home"
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    for index in range(GOOD_RUNS + 2):
        span = scope_spans.spans.add(
            trace_id=b"\x01" * 16, span_id=(index + 1).to_bytes(8, "big"), name="good",
            start_time_unix_nano=1_700_000_000 * 10**9 + index,
            end_time_unix_nano=1_700_000_000 * 10**9 + index + 5,
        )
        span.attributes.add(key="nan").value.double_value = math.nan
    scope_spans.spans[10].name = "far-future"
    scope_spans.spans[10].start_time_unix_nano = 2**64 - 1  # year 2554
    scope_spans.spans[10].end_time_unix_nano = 2**64 - 1
    event = scope_spans.spans[10].events.add(name="late", time_unix_nano=2**63 + 5)
    assert event.name == "late"
    scope_spans.spans[20].name = "bad-id"
    scope_spans.spans[20].span_id = b"\x05" * 4
    with running_receiver(home) as url:
        status, _, _ = post(url, request.SerializeToString())
    assert status == 200
    found = store_rows(home, "SELECT SpanName, Timestamp, SpanAttributes, `Events.Timestamp` "
                             "FROM otel_traces ORDER BY SpanId")
    names = [row["SpanName"] for row in found]
    assert names.count("good") == GOOD_RUNS and "bad-id" not in names
    (future,) = [row for row in found if row["SpanName"] == "far-future"]
    assert future["SpanAttributes"][semconv.ORIGINAL_START_TIME] == str(2**64 - 1)
    assert future["Timestamp"] == datetime(2262, 1, 1, tzinfo=timezone.utc)
    assert future["Events.Timestamp"][0] == datetime(2262, 1, 1, tzinfo=timezone.utc)
    assert {row["SpanAttributes"]["nan"] for row in found} == {"NaN"}


def test_poison_runs_over_the_otlp_backend_keep_their_neighbours(tmp_path: Path) -> None:
    """The Python OTLP exporter fails a whole batch on one surrogate or negative time; the
    SDK repairs such runs before export, so the receiver gets all of them."""
    receiver_home, client_home = tmp_path / "receiver", tmp_path / "client"
    script = write_script(tmp_path, "poisoned.py", POISONED_PIPELINE)
    with running_receiver(receiver_home) as url:
        proc = run_script(
            script, client_home, str(client_home), MLTRACE_BACKEND="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=url.removesuffix("/v1/traces"),
        )
    assert proc.stdout.split() == ["flushed", "True"], proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "could not be sent" in line]
    assert len(warnings) == 4, proc.stderr
    found = store_rows(receiver_home, "SELECT SpanName, Timestamp, SpanAttributes "
                                      "FROM otel_traces ORDER BY SpanId")
    names = [row["SpanName"] for row in found]
    assert names.count("good") == GOOD_RUNS
    assert sorted(set(names)) == ["backwards", "good", "latin", "n\\xe4me", "year-3000",
                                  "year-one"]
    (latin,) = [row for row in found if row["SpanName"] == "latin"]
    assert latin["SpanAttributes"][semconv.RUN_OUTPUTS] == '["caf\\\\xe9-report.csv"]'
    (ancient,) = [row for row in found if row["SpanName"] == "year-one"]
    assert ancient["Timestamp"] == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert semconv.ORIGINAL_START_TIME in ancient["SpanAttributes"]


def test_sendable_spans_leaves_sound_batches_alone_and_drops_only_the_unrepairable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sound = [sdk_span("a", 1, 10, 20), sdk_span("b", 2, 30, 40)]
    assert repair.sendable_spans(sound) == sound
    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
        kept = repair.sendable_spans([sound[0], sdk_span("nan", 3, math.nan, 5), sound[1]])
    assert kept == sound
    assert len(caplog.records) == 1 and "'nan'" in caplog.records[0].getMessage()


def test_poison_runs_over_the_clickhouse_backend_keep_their_neighbours(tmp_path: Path) -> None:
    """The ``clickhouse`` backend into ``mltrace serve``'s ClickHouse HTTP interface."""
    served, client_home = tmp_path / "served", tmp_path / "client"
    script = write_script(tmp_path, "poisoned.py", POISONED_PIPELINE)
    with serve_process(served, otlp=False) as server:
        proc = run_script(script, client_home, str(client_home), MLTRACE_BACKEND="clickhouse",
                          MLTRACE_CLICKHOUSE_URL=server.url)
        assert proc.stdout.split() == ["flushed", "True"], proc.stderr
        assert len([line for line in proc.stderr.splitlines() if "could not be sent" in line]) == 4
        counts = {row["SpanName"]: int(row["n"]) for row in clickhouse_json(
            server.url, "SELECT SpanName, count() AS n FROM otel_traces GROUP BY SpanName")}
    assert counts == {"good": GOOD_RUNS, "latin": 1, "year-one": 1, "year-3000": 1,
                      "backwards": 1, "n\\xe4me": 1}
