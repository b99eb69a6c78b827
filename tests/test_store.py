"""The embedded store (SPEC 5): schema, Collector-style inserts, the spool."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.ipc
import pytest
from _support import insert_span, release_store, run_script, write_script

import mltrace_otel as mltrace
from mltrace_otel import semconv

T0 = datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc)

# The columns of the OpenTelemetry Collector ClickHouse exporter's otel_traces table
# (queries/schema/00_otel_traces.sql), as DESCRIBE shows them (Nested columns flattened).
OTEL_TRACES_COLUMNS = [
    ("Timestamp", "DateTime64(9)"),
    ("TraceId", "String"),
    ("SpanId", "String"),
    ("ParentSpanId", "String"),
    ("TraceState", "String"),
    ("SpanName", "LowCardinality(String)"),
    ("SpanKind", "LowCardinality(String)"),
    ("ServiceName", "LowCardinality(String)"),
    ("ResourceAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeName", "String"),
    ("ScopeVersion", "String"),
    ("SpanAttributes", "Map(LowCardinality(String), String)"),
    ("Duration", "UInt64"),
    ("StatusCode", "LowCardinality(String)"),
    ("StatusMessage", "String"),
    ("Events.Timestamp", "Array(DateTime64(9))"),
    ("Events.Name", "Array(LowCardinality(String))"),
    ("Events.Attributes", "Array(Map(LowCardinality(String), String))"),
    ("Links.TraceId", "Array(String)"),
    ("Links.SpanId", "Array(String)"),
    ("Links.TraceState", "Array(String)"),
    ("Links.Attributes", "Array(Map(LowCardinality(String), String))"),
]

STAGE = """
    import sys

    import mltrace_otel as mltrace

    @mltrace.Component(sys.argv[1]).run(input_vars=["inputs"], output_vars=["outputs"])
    def stage():
        inputs = [item for item in sys.argv[2].split(",") if item]
        outputs = [item for item in sys.argv[3].split(",") if item]

    stage()
    mltrace.flush()
    assert "chdb" not in sys.modules, "a pipeline process must not load chDB"
"""


def describe(table: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in mltrace.query(f"DESCRIBE TABLE {table}")]


def test_otel_traces_has_exactly_the_collector_columns(home: Path) -> None:
    assert describe("otel_traces") == OTEL_TRACES_COLUMNS


def test_init_db_via_cli_is_idempotent_and_keeps_data(home: Path, run_cli) -> None:
    first = run_cli("init-db", check=True)
    assert "ready" in first.stdout
    assert run_cli("init-db", check=True).returncode == 0
    tables = {row[0] for row in mltrace.query("SHOW TABLES")}
    assert {"otel_traces", "mltrace_runs", "mltrace_io", "mltrace_components"} <= tables
    assert describe("otel_traces") == OTEL_TRACES_COLUMNS

    run = mltrace.ComponentRun("kept")
    run.set_start_timestamp(T0)
    run.set_end_timestamp(T0 + timedelta(seconds=1))
    run.add_output("kept.csv")
    mltrace.log_component_run(run)
    mltrace.init_db()
    assert run_cli("init-db", check=True).returncode == 0
    assert [r.outputs for r in mltrace.get_history("kept")] == [["kept.csv"]]
    assert len(mltrace.query("SELECT * FROM otel_traces")) == 1


def test_collector_inserted_spans_are_indexed_and_traced(home: Path) -> None:
    """Spans written straight into otel_traces (as the Collector's exporter writes them, by
    an SDK in another language) are runs: the materialized views index them."""
    insert_span("00000000000000a1", "java-ingest", T0, T0 + timedelta(seconds=5), [], ["raw.avro"])
    insert_span(
        "00000000000000b2",
        "go-clean",
        T0 + timedelta(seconds=10),
        T0 + timedelta(seconds=12),
        ["raw.avro"],
        ["clean.parquet"],
        extra_attributes={
            semconv.COMPONENT_OWNER: "data-eng",
            semconv.COMPONENT_TAGS: json.dumps(["go", "etl"]),
            semconv.VCS_REF_HEAD_REVISION: "abc123",
        },
        status="Error",
    )
    # An application span without mltrace attributes is not a run.
    mltrace.query(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName, Duration)"
        " VALUES ({ts:DateTime64(9, 'UTC')}, 'ff', '00000000000000c3', 'GET /', 'web', 1)",
        {"ts": T0},
    )

    levels = mltrace.trace("clean.parquet")
    assert [(level, run.id, run.component_name) for level, run in levels] == [
        (0, "00000000000000b2", "go-clean"),
        (1, "00000000000000a1", "java-ingest"),
    ]
    clean = levels[0][1]
    assert clean.inputs == ["raw.avro"] and clean.outputs == ["clean.parquet"]
    assert clean.start_timestamp == T0 + timedelta(seconds=10)
    assert clean.end_timestamp == T0 + timedelta(seconds=12)
    assert clean.status == "ERROR"
    assert clean.git_hash == "abc123"
    assert clean.service_name == "collector-client"
    assert [p.pointer_type for p in clean.output_pointers] == ["UNKNOWN"]
    assert mltrace.get_recent_run_ids(limit=10) == ["00000000000000b2", "00000000000000a1"]
    info = mltrace.get_component_information("go-clean")
    assert (info.owner, sorted(info.tags)) == ("data-eng", ["etl", "go"])

    # An SDK run that reads the Collector's output depends on it.
    run = mltrace.ComponentRun("python-train")
    run.set_start_timestamp(T0 + timedelta(seconds=20))
    run.set_end_timestamp(T0 + timedelta(seconds=21))
    run.add_input("clean.parquet")
    run.add_output("model.onnx")
    mltrace.log_component_run(run)
    assert [run.component_name for _, run in mltrace.trace("model.onnx")] == [
        "python-train",
        "go-clean",
        "java-ingest",
    ]


def test_the_run_table_keeps_only_attributes_without_a_column_of_their_own(home: Path) -> None:
    """mltrace_runs stores pointers, types, versions and upstream once, in their columns; its
    Attributes map keeps the rest (git, owner, thresholds), otel_traces keeps every one."""
    run = mltrace.ComponentRun("train")
    run.set_upstream("load")
    run.add_input("raw.csv")
    run.add_output("model.pkl")
    run.set_start_timestamp(T0)
    run.set_end_timestamp(T0 + timedelta(seconds=1))
    mltrace.log_component_run(run)
    mltrace.flush()
    duplicated = [semconv.COMPONENT_NAME, semconv.RUN_INPUTS, semconv.RUN_INPUT_TYPES,
                  semconv.RUN_INPUT_VERSIONS, semconv.RUN_OUTPUTS, semconv.RUN_OUTPUT_TYPES,
                  semconv.RUN_OUTPUT_VERSIONS, semconv.RUN_UPSTREAM]
    (stored,), = mltrace.query("SELECT mapKeys(Attributes) FROM mltrace_runs")
    (sent,), = mltrace.query("SELECT mapKeys(SpanAttributes) FROM otel_traces")
    assert set(duplicated) <= set(sent)
    assert not set(duplicated) & set(stored)
    assert semconv.RUN_STALENESS_THRESHOLD in stored
    logged = mltrace.get_component_run_information(mltrace.get_recent_run_ids(1)[0])
    assert (logged.component_name, logged.inputs, logged.outputs) == ("train", ["raw.csv"],
                                                                       ["model.pkl"])
    assert [p.pointer_type for p in logged.input_pointers] == ["DATA"]


def test_component_facts_are_kept_once_per_insert_not_once_per_run(home: Path) -> None:
    """mltrace_components gets a row per component and distinct facts in each insert; the
    latest owner and description and every tag are what get_component_information gives."""
    etl = mltrace.Component("etl", "ann", "loads", tags=["raw"])

    @etl.run
    def load() -> None:
        pass

    for _ in range(40):
        load()
    mltrace.flush()
    handed_over = mltrace.Component("etl", "bob", "loads", tags=["clean"])

    @handed_over.run
    def load_again() -> None:
        pass

    for _ in range(30):
        load_again()
    mltrace.flush()
    mltrace.create_component("etl", "loads again", "", tags=["nightly"])
    assert len(mltrace.get_history("etl", limit=100)) == 70
    (rows,), = mltrace.query("SELECT count() FROM mltrace_components WHERE Name = 'etl'")
    assert rows <= 3  # one per insert, not 70
    info = mltrace.get_component_information("etl")
    assert (info.owner, info.description) == ("bob", "loads again")
    assert sorted(info.tags) == ["clean", "nightly", "raw"]


def test_an_insert_without_continuation_spans_adds_no_pointer_rows_of_parts(home: Path) -> None:
    """The continuation view keeps only continuation spans; runs' pointers are indexed once."""
    run = mltrace.ComponentRun("train")
    run.add_inputs(["a.csv", "b.csv"])
    run.add_output("model.pkl")
    run.set_start_timestamp(T0)
    run.set_end_timestamp(T0 + timedelta(seconds=1))
    mltrace.log_component_run(run)
    mltrace.flush()
    rows = mltrace.query("SELECT Pointer, Direction FROM mltrace_io ORDER BY Pointer")
    assert rows == [("a.csv", "input"), ("b.csv", "input"), ("model.pkl", "output")]


def test_continuation_spans_leave_out_empty_versions_and_unknown_types(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run span carries all six pointer arrays; a continuation span leaves out a version
    array that is all empty and a type array that is all UNKNOWN (docs/conventions.md)."""
    from mltrace_otel.sdk import run as run_module

    monkeypatch.setattr(run_module, "SPAN_POINTER_BYTES", 64)  # a few pointers per span
    run = mltrace.ComponentRun("split")
    run.add_inputs([f"thing-{index}" for index in range(8)])  # UNKNOWN, no versions
    run.add_outputs([mltrace.IOPointer(f"out-{index}.csv", value=index) for index in range(8)])
    run.set_start_timestamp(T0)
    run.set_end_timestamp(T0 + timedelta(seconds=1))
    mltrace.log_component_run(run)
    mltrace.flush()
    keys = {semconv.RUN_INPUT_VERSIONS, semconv.RUN_INPUT_TYPES, semconv.RUN_OUTPUT_VERSIONS,
            semconv.RUN_OUTPUT_TYPES}
    rows = mltrace.query(
        "SELECT SpanAttributes[{key:String}] = 'true', mapKeys(SpanAttributes),"
        " SpanAttributes[{inputs:String}], SpanAttributes[{outputs:String}] FROM otel_traces",
        {"key": semconv.CONTINUATION, "inputs": semconv.RUN_INPUTS,
         "outputs": semconv.RUN_OUTPUTS},
    )
    run_keys = [set(names) for continuation, names, _, _ in rows if not continuation]
    assert len(run_keys) == 1 and keys <= run_keys[0]
    parts = [(set(names), json.loads(inputs or "[]"), json.loads(outputs or "[]"))
             for continuation, names, inputs, outputs in rows if continuation]
    assert parts
    for names, inputs, outputs in parts:
        if inputs and not outputs:  # inputs only: names, nothing else worth sending
            assert not names & keys
        if outputs and not inputs:  # outputs: versions (content hashes) and DATA types
            assert {semconv.RUN_OUTPUT_VERSIONS, semconv.RUN_OUTPUT_TYPES} <= names
            assert not names & {semconv.RUN_INPUT_VERSIONS, semconv.RUN_INPUT_TYPES}


def test_spool_files_are_removed_after_ingest_and_temp_files_ignored(
    home: Path, tmp_path: Path
) -> None:
    release_store()
    script = write_script(tmp_path, "stage.py", STAGE)
    run_script(script, home, "spooled", "", "a.csv")
    spool = home / "spool"
    published = list(spool.glob("*.arrow"))
    assert len(published) == 1
    table = pyarrow.ipc.open_file(str(published[0])).read_all()
    attributes = dict(table.column("SpanAttributes")[0].as_py())
    assert attributes[semconv.COMPONENT_NAME] == "spooled"
    # A writer that died while writing leaves a partial temporary file behind.
    partial = spool / ".x.tmp"
    data = published[0].read_bytes()
    partial.write_bytes(data[: len(data) // 2])

    assert [run.outputs for run in mltrace.get_history("spooled")] == [["a.csv"]]
    assert not list(spool.rglob("*.arrow"))
    assert partial.exists()
    assert len(mltrace.query("SELECT * FROM otel_traces")) == 1


def test_files_left_by_a_crashed_reader_are_ingested(home: Path, tmp_path: Path) -> None:
    release_store()
    script = write_script(tmp_path, "stage.py", STAGE)
    run_script(script, home, "orphan", "", "orphan.csv")
    spool = home / "spool"
    (published,) = spool.glob("*.arrow")
    stranded = spool / "claimed" / "999999-deadbeef0000"
    stranded.mkdir(parents=True)
    shutil.move(published, stranded / published.name)

    assert [run.outputs for run in mltrace.get_history("orphan")] == [["orphan.csv"]]
    assert not list(spool.rglob("*.arrow"))


def test_a_batch_ingested_twice_is_one_run(home: Path, tmp_path: Path) -> None:
    """A reader that crashed between insert and delete re-inserts a batch; queries dedupe."""
    release_store()
    script = write_script(tmp_path, "stage.py", STAGE)
    run_script(script, home, "first", "", "dup.csv")
    run_script(script, home, "second", "dup.csv", "out.csv")
    spool = home / "spool"
    for path in list(spool.glob("*.arrow")):
        shutil.copy(path, spool / f"copy-{path.name}")

    assert len(mltrace.query("SELECT * FROM otel_traces")) == 4
    assert len(mltrace.get_recent_run_ids(limit=10)) == 2
    assert len(mltrace.get_history("first")) == 1
    levels = mltrace.trace("out.csv")
    assert [(level, run.component_name) for level, run in levels] == [(0, "second"), (1, "first")]
    assert len(levels[0][1].dependencies) == 1


def test_spool_inserts_leave_skip_indexes_to_merges(home: Path, tmp_path: Path) -> None:
    """The ingest settings apply: a part written from the spool has no skip index data yet,
    and a merge builds it (so TraceId lookups keep their bloom filters)."""
    release_store()
    script = write_script(tmp_path, "stage.py", STAGE)
    run_script(script, home, "indexed", "", "a.csv")
    run_script(script, home, "indexed", "a.csv", "b.csv")
    parts = ("SELECT sum(secondary_indices_compressed_bytes) AS bytes FROM system.parts "
             "WHERE database = currentDatabase() AND table = 'otel_traces' AND active")
    assert len(mltrace.query("SELECT * FROM otel_traces")) == 2
    assert mltrace.query(parts) == [(0,)]
    mltrace.query("OPTIMIZE TABLE otel_traces FINAL")
    assert mltrace.query(parts)[0][0] > 0
