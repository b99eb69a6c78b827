"""Run records (``mltrace_runs.Record``): runs are read back by id from one JSON array per run,
which holds the run table's columns in the order ``mltrace_otel.store.records.FIELDS`` names,
and whatever text a run carries survives the trip."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mltrace_otel as mltrace
from mltrace_otel import semconv, state
from mltrace_otel.lineage.keys import pointer_key
from mltrace_otel.store import StoreError, records

START = datetime(2025, 5, 4, 3, 2, 1, 123456, tzinfo=timezone.utc)

COMPUTED = {
    "StartNs": "toString(toUnixTimestamp64Nano(StartTime))",
    "EndNs": "toString(toUnixTimestamp64Nano(EndTime))",
    "OutputKeys": "arrayMap(name -> toString(reinterpretAsUInt64(substring(MD5(name), 1, 8))),"
                  " Outputs)",
}


def insert_run(span_id: str, attributes: dict[str, str], bad_utf8_key: str = "") -> None:
    """A run span straight into otel_traces, with a test-result event and a status message;
    ``bad_utf8_key`` gets a value that is not UTF-8 (``x`` then the byte 0xff)."""
    state.store().command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName,"
        " SpanAttributes, Duration, StatusCode, StatusMessage, `Events.Timestamp`,"
        " `Events.Name`, `Events.Attributes`)"
        " VALUES ({ts:DateTime64(9, 'UTC')}, {trace:String}, {span:String}, 'train', 'svc',"
        " mapUpdate(mapFromArrays({keys:Array(String)}, {values:Array(String)}),"
        "           if({bad:String} = '', map(), map({bad:String}, concat('x', unhex('ff'))))),"
        " 1500000, 'Error', 'boom', [{ts:DateTime64(9, 'UTC')}], [{event:String}],"
        " [map({test_key:String}, 'checks rows', {passed_key:String}, 'false')])",
        {
            "ts": START, "trace": span_id * 2, "span": span_id,
            "keys": list(attributes), "values": list(attributes.values()), "bad": bad_utf8_key,
            "event": semconv.EVENT_TEST, "test_key": semconv.TEST_NAME,
            "passed_key": semconv.TEST_PASSED,
        },
    )
    state.store().touch()


def test_a_record_holds_the_run_columns_in_the_order_records_names_them(home: Path) -> None:
    insert_run("00000000000000a1", {
        semconv.COMPONENT_NAME: "train",
        semconv.RUN_INPUTS: '["raw.csv", "model.cfg"]',
        semconv.RUN_INPUT_VERSIONS: '["v1"]',
        semconv.RUN_INPUT_TYPES: '["DATA"]',
        semconv.RUN_OUTPUTS: '["model.pkl", "metrics.json"]',
        semconv.RUN_OUTPUT_TYPES: '["MODEL", "DATA"]',
        semconv.COMPONENT_OWNER: "ana",
    })
    columns = ", ".join(COMPUTED.get(name, name) for name in records.FIELDS)
    (expected,) = state.store().query(f"SELECT {columns} FROM mltrace_runs").rows
    ((span_id, record),) = records.read(state.store(), ["00000000000000a1", "00000000000000ff"])
    assert span_id == "00000000000000a1"
    assert record == expected
    assert record[records.OUTPUT_KEYS] == [str(pointer_key("model.pkl")),
                                           str(pointer_key("metrics.json"))]
    assert record[records.START_NS] == str(1_000 * int(START.timestamp() * 1_000_000))
    assert len(record) == len(records.FIELDS)


def test_runs_read_from_records_keep_any_text(home: Path) -> None:
    """Tabs and newlines (the raw text has a line a run), quotes, backslashes, non-ASCII and
    bytes that are not UTF-8 (replaced, as ClickHouse's JSON output replaces them)."""
    text = 'tab\there\nnew line "quoted" back\\slash caf\u00e9 \u2713 \U0001f600'
    run = mltrace.ComponentRun("clean")
    run.set_start_timestamp(START)
    run.set_end_timestamp(START + timedelta(seconds=1))
    run.add_input(mltrace.IOPointer(f"in {text}", version="sha256:1"))
    run.add_output(f"out {text}")
    run.notes = text
    mltrace.log_component_run(run)
    insert_run("00000000000000b1", {
        semconv.COMPONENT_NAME: "train",
        semconv.RUN_INPUTS: json.dumps([f"out {text}"], ensure_ascii=False),
    }, bad_utf8_key=semconv.RUN_NOTES)

    (clean,) = mltrace.get_history("clean")
    assert clean.notes == text
    assert clean.inputs == [f"in {text}"]
    assert clean.input_pointers[0].version == "sha256:1"
    assert clean.outputs == [f"out {text}"]
    train = mltrace.get_component_run_information("00000000000000b1")
    assert train.inputs == [f"out {text}"]
    assert train.dependencies == [clean.id]
    assert train.notes == "x\ufffd"
    assert (train.status, train.status_message) == ("ERROR", "boom")
    assert train.test_results == [{"name": "checks rows", "phase": "", "passed": False,
                                   "duration": 0.0, "error": ""}]
    assert train.end_timestamp - train.start_timestamp == timedelta(microseconds=1500)


def test_records_read_in_the_background_match_and_report_errors_when_collected(
    home: Path,
) -> None:
    """``records.read_soon`` gives what ``records.read`` gives; the embedded store runs the
    query in a thread, so a failing query raises when its result is collected, not before."""
    insert_run("00000000000000c1", {semconv.COMPONENT_NAME: "train", semconv.RUN_NOTES: "a\tb"})
    insert_run("00000000000000c2", {semconv.COMPONENT_NAME: "score"})
    store = state.store()
    ids = ["00000000000000c2", "00000000000000c1", "00000000000000ff"]
    collect = records.read_soon(store, ids)
    found = collect()
    assert sorted(found) == sorted(records.read(store, ids))
    assert sorted(span_id for span_id, _ in found) == ["00000000000000c1", "00000000000000c2"]
    failing = store.text_soon("SELECT no_such_column FROM mltrace_runs")
    with pytest.raises(StoreError, match="no_such_column"):
        failing()
