"""The in-memory lineage index answers exactly as the store's SQL, for runs with span links,
set_upstream names, versions and continuation spans, also as rows keep arriving."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import mltrace_otel as mltrace
from mltrace_otel import semconv, state
from mltrace_otel.lineage import dependencies as _dependencies
from mltrace_otel.lineage import downstream as _downstream
from mltrace_otel.lineage.dependencies import Lineage, consumers_by_id
from mltrace_otel.query import runs as _runs
from mltrace_otel.sdk import links
from mltrace_otel.sdk import run as _run
from mltrace_otel.store import sql as _sql

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def log(
    component: str,
    start: float,
    inputs: Sequence[str | mltrace.IOPointer] = (),
    outputs: Sequence[str | mltrace.IOPointer] = (),
    upstream: Sequence[str] = (),
) -> None:
    """Log one run through the SDK (span links to this process's producers included)."""
    run = mltrace.ComponentRun(component)
    run.set_start_timestamp(at(start))
    run.set_end_timestamp(at(start + 0.5))
    run.add_inputs(list(inputs))
    run.add_outputs(list(outputs))
    if upstream:
        run.set_upstream(list(upstream))
    mltrace.log_component_run(run)


def insert_linked(
    span_id: str, component: str, start: float, inputs: Sequence[str], links: Sequence[str]
) -> None:
    """A run span from another SDK, straight into otel_traces, with explicit span links."""
    attributes = {
        semconv.COMPONENT_NAME: component,
        semconv.RUN_INPUTS: json.dumps(list(inputs)),
        semconv.RUN_OUTPUTS: json.dumps([f"{component}.out"]),
    }
    state.store().command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName,"
        " SpanAttributes, Duration, StatusCode, `Links.TraceId`, `Links.SpanId`,"
        " `Links.TraceState`, `Links.Attributes`)"
        " VALUES ({ts:DateTime64(9, 'UTC')}, {trace:String}, {span:String}, {name:String},"
        " 'other', mapFromArrays({keys:Array(String)}, {values:Array(String)}), 1000, 'Ok',"
        " {link_traces:Array(String)}, {links:Array(String)}, {link_states:Array(String)},"
        " {link_attributes:Array(Map(String, String))})",
        {
            "ts": at(start), "trace": span_id * 2, "span": span_id, "name": component,
            "keys": list(attributes), "values": list(attributes.values()),
            "link_traces": ["0" * 32] * len(links), "links": list(links),
            "link_states": [""] * len(links), "link_attributes": [{}] * len(links),
        },
    )
    state.store().touch()


def record_sql(monkeypatch: pytest.MonkeyPatch, *methods: str) -> list[str]:
    """The SQL of every later call of the store's ``methods`` (which still answer)."""
    asked: list[str] = []
    store = state.store()

    def recording(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(sql: str, *args: Any, **kwargs: Any) -> Any:
            asked.append(sql)
            return real(sql, *args, **kwargs)

        return call

    for name in methods:
        monkeypatch.setattr(store, name, recording(getattr(store, name)))
    return asked


def every_run() -> list[str]:
    return [row[0] for row in mltrace.query("SELECT DISTINCT SpanId FROM mltrace_runs")]


def lineage_facts(mode: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Every answer lineage gives about the store, with the index ``on`` or ``off``."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", mode)
    runs = sorted(every_run())
    lineage = Lineage(state.store())
    assert (lineage.index is not None) == (mode == "on")
    written = mltrace.query("SELECT DISTINCT Pointer FROM mltrace_io WHERE Direction = 'output'")
    outputs = sorted(row[0] for row in written)
    consumers = list(consumers_by_id(state.store(), runs).values())
    facts = _downstream.run_facts(state.store(), runs)
    walks = {run: _downstream.walk(lineage, [run], facts=facts) for run in runs}
    return {
        "downstream": {
            run: (down.children, down.dependencies, down.final_outputs)
            for run, down in walks.items()
        },
        "impact": {output: mltrace.impact(output).to_dict() for output in outputs},
        "producers": lineage.latest_producers(outputs),
        "closure": {run: lineage.upstream_closure([run]) for run in runs},
        "dependencies": lineage.dependencies(consumers),
        "traces": {
            output: [(level, run.id, run.dependencies) for level, run in mltrace.trace(output)]
            for output in outputs
        },
    }


def assert_index_agrees(
    monkeypatch: pytest.MonkeyPatch, ordered: bool = True
) -> dict[str, object]:
    """Index and store give the same answers (``ordered=False``: the same dependencies, in
    any order within a run's list)."""
    on = lineage_facts("on", monkeypatch)
    off = lineage_facts("off", monkeypatch)
    for key in off:
        if ordered:
            assert on[key] == off[key], key
        else:
            assert _unordered(on[key]) == _unordered(off[key]), key
    return on


def _unordered(value: object) -> object:
    if isinstance(value, dict):
        return {key: _unordered(item) for key, item in value.items()}
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return sorted(value)
    if isinstance(value, list):
        return [_unordered(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_unordered(item) for item in value)
    return value


def test_index_agrees_with_the_store_on_sdk_logged_runs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    pointer = mltrace.IOPointer
    for index in range(40):
        reads = rng.sample([f"p{k}" for k in range(12)], rng.randint(0, 3))
        writes = rng.sample([f"p{k}" for k in range(12)], rng.randint(0, 2))
        if index % 7 == 3:
            writes.append(pointer("model.pkl", version=f"v{index % 3}"))
        if index % 5 == 4:
            reads.append(pointer("model.pkl", version=f"v{index % 3}"))
        named = rng.sample(range(6), rng.randint(0, 2)) if index % 4 else []
        upstream = [f"comp{k}" for k in named]
        log(f"comp{index % 6}", rng.randrange(60) / 2, reads, writes, upstream)
    facts = assert_index_agrees(monkeypatch)
    linked = mltrace.query("SELECT count() FROM otel_traces WHERE notEmpty(Links.SpanId)")
    named = mltrace.query("SELECT count() FROM mltrace_runs WHERE notEmpty(Upstream)")
    assert linked[0][0] > 10 and named[0][0] > 10  # links and set_upstream are exercised
    # The SDK's links record pointer and set_upstream dependencies: the rule re-derives them.
    assert mltrace.query("SELECT count() FROM mltrace_runs WHERE notEmpty(LinkSpanIds)") == [(0,)]
    assert any(len(deps) > 1 for deps in facts["dependencies"].values())


def test_links_the_pointer_rule_would_not_find_are_dependencies_on_the_index(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log("producer", 1, outputs=["a.csv"])
    log("newer", 2, outputs=["a.csv"])
    producer = mltrace.get_history("producer")[0].id
    newer = mltrace.get_history("newer")[0].id
    # Reads a.csv (the rule picks "newer") but links to "producer", to a run this store does
    # not have, to itself, and once to an id that is not a span id.
    insert_linked("00000000000000a1", "linked", 5, ["a.csv"], [producer, "ffffffffffffffff"])
    insert_linked("00000000000000a2", "selfish", 6, [], ["00000000000000a2", producer])
    insert_linked("00000000000000a3", "odd", 7, ["a.csv"], ["not-a-span-id"])
    facts = assert_index_agrees(monkeypatch)
    deps = facts["dependencies"]
    assert deps["00000000000000a1"] == [newer, producer, "ffffffffffffffff"]
    assert deps["00000000000000a2"] == [producer]
    assert deps["00000000000000a3"] == [newer, "not-a-span-id"]
    trace = facts["traces"]["linked.out"]
    assert [run for _, run, _ in trace] == ["00000000000000a1", newer, producer]


def test_index_stays_exact_as_linked_runs_keep_arriving(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Incremental refreshes (and segment merges) with links and set_upstream names, including
    a component named for the first time after many of its runs were indexed."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", "on")
    previous = "seed"
    for index in range(8):
        log(f"stage{index % 3}", index * 10, [previous], [f"out{index}"])
        previous = f"out{index}"
        traced = mltrace.trace(previous)  # one refresh per run: segments pile up and merge
        assert traced[0][1].component_name == f"stage{index % 3}"
        assert len(traced) == index + 1
    log("late", 100, upstream=["stage1"], outputs=["late.out"])
    named = mltrace.trace("late.out")  # "stage1" named for the first time: its runs load
    assert [(level, run.start_timestamp) for level, run in named[:2]] == [(0, at(100)), (1, at(70))]
    log("stage1", 95, outputs=["unread"])
    log("later", 120, upstream=["stage1", "late"], outputs=["later.out"])
    facts = assert_index_agrees(monkeypatch)
    (later,) = [level for level in facts["traces"]["later.out"] if level[0] == 0]
    stage1 = mltrace.get_history("stage1", limit=1)[0].id
    late = mltrace.get_history("late", limit=1)[0].id
    assert later[2] == [stage1, late]


def log_shard_writers(reads: Sequence[str] = ()) -> list[str]:
    """80 long input names, more than a 2 KiB run span holds (the limit is patched by the
    tests), and a writer run for every tenth of them; returns the names."""
    inputs = [f"shard-{index:05d}-{'x' * 100}.parquet" for index in range(80)]
    for index, name in enumerate(inputs[::10]):
        log(f"writer{index}", index, reads, [name])
    return inputs


def test_continuation_inputs_are_on_the_index(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with more pointers than one span carries: the rest come from continuation spans."""
    monkeypatch.setattr(_run, "SPAN_POINTER_BYTES", 2048)
    inputs = log_shard_writers()
    log("reader", 100, inputs, ["merged.parquet"])
    continued = mltrace.query(
        "SELECT count() FROM otel_traces WHERE SpanAttributes[{key:String}] = 'true'",
        {"key": semconv.CONTINUATION},
    )
    assert continued[0][0] >= 1
    # The store path lists a continuation span's pointers in no defined order (groupArray in
    # queries/run_inputs.sql), so only the dependency sets can agree.
    facts = assert_index_agrees(monkeypatch, ordered=False)
    (reader,) = [level for level in facts["traces"]["merged.parquet"] if level[0] == 0]
    assert len(reader[2]) == 8


def test_a_fetched_run_depends_on_the_producers_of_its_continued_inputs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run read by id (inspect, history) gets its dependencies from all its inputs, also
    those its continuation spans carry."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", "off")
    monkeypatch.setattr(_run, "SPAN_POINTER_BYTES", 2048)
    inputs = log_shard_writers()
    links.registry.clear()  # as if another process read them: no span links to the writers
    log("reader", 100, inputs, ["merged.parquet"])
    reader = mltrace.get_history("reader")[0]
    assert len(reader.input_pointers) < len(inputs)  # the rest are in continuation spans
    linked = mltrace.query("SELECT LinkSpanIds FROM mltrace_runs WHERE Component = 'reader'")
    assert linked == [([],)]
    writers = {mltrace.get_history(f"writer{index}")[0].id for index in range(8)}
    assert set(mltrace.get_component_run_information(reader.id).dependencies) == writers
    assert set(reader.dependencies) == writers


def test_a_reader_reached_through_an_input_its_span_lists_gets_every_dependency(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose inputs overflow into continuation spans, logged by another process (no
    span links): a forward walk that reaches it through an input its run span lists reads
    it whole, so both paths give it the writers of all its inputs."""
    monkeypatch.setattr(_run, "SPAN_POINTER_BYTES", 2048)
    inputs = log_shard_writers(["raw.csv"])
    links.registry.clear()  # as if another process read them
    log("reader", 100, inputs, ["merged.parquet"])
    facts = assert_index_agrees(monkeypatch, ordered=False)
    writers = {mltrace.get_history(f"writer{index}")[0].id for index in range(8)}
    reader = mltrace.get_history("reader")[0].id
    _, dependencies, _ = facts["downstream"][mltrace.get_history("writer0")[0].id]  # type: ignore[index]
    assert set(dependencies[reader]) == writers


def test_forward_walks_start_from_every_output_continuation_spans_too(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose outputs overflow into continuation spans: on both paths a forward walk
    finds the readers of every output, also those only a continuation span lists, and the
    unread ones are final outputs."""
    monkeypatch.setattr(_run, "SPAN_POINTER_BYTES", 2048)
    outputs = [f"part-{index:05d}-{'x' * 100}.parquet" for index in range(40)]
    log("writer", 0, ["raw.csv"], outputs)
    (listed,) = mltrace.query("SELECT Outputs FROM mltrace_runs WHERE Component = 'writer'")
    overflowed = [name for name in outputs if name not in listed[0]]
    assert listed[0] and overflowed
    insert_linked("00000000000000b1", "own_reader", 5, [listed[0][0]], [])
    insert_linked("00000000000000b2", "overflow_reader", 6, [overflowed[0]], [])
    facts = assert_index_agrees(monkeypatch, ordered=False)
    writer = mltrace.get_history("writer")[0].id
    children, _, final = facts["downstream"][writer]  # type: ignore[index]
    assert children == {writer: ["00000000000000b1", "00000000000000b2"]}
    assert sorted(final[writer]) == sorted(set(outputs) - {listed[0][0], overflowed[0]})


@pytest.mark.parametrize("mode", ["on", "off"])
def test_impact_follows_an_output_that_a_continuation_span_carries(
    home: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """SDK-logged runs in one process: the reader's only output overflows into a
    continuation span, and the run that reads it is downstream of the reader's inputs."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", mode)
    monkeypatch.setattr(_run, "SPAN_POINTER_BYTES", 2048)
    inputs = [f"shard-{index:05d}-{'x' * 100}.parquet" for index in range(40)]
    log("reader", 1, inputs, ["merged.parquet"])
    log("after", 2, ["merged.parquet"], ["final.csv"])
    (listed,) = mltrace.query("SELECT Outputs FROM mltrace_runs WHERE Component = 'reader'")
    assert listed == ([],)  # merged.parquet is in a continuation span
    found = mltrace.impact(inputs[0])
    assert [(level, run.component_name) for level, run in found.runs] == [
        (0, "reader"), (1, "after"),
    ]
    assert [output.name for output in found.final_outputs] == ["final.csv"]


@pytest.mark.parametrize(("read_ahead", "reads"), [
    (1, [["roo"], ["mid"] * 3, ["lea"] * 6]),  # each level read as soon as it is reached
    (_runs.READ_AHEAD_RUNS, [["lea"] * 6 + ["mid"] * 3 + ["roo"]]),  # few runs: one read
])
def test_impact_on_the_index_reads_the_runs_it_reached_once(
    home: Path, monkeypatch: pytest.MonkeyPatch, read_ahead: int, reads: list[list[str]]
) -> None:
    """With a current index, impact walks every level in memory and asks the store only
    whether the pointer is known and for the runs reached, each run once: a level is read
    while the walk finds the next when at least ``READ_AHEAD_RUNS`` runs wait, the rest
    at the end."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", "on")
    monkeypatch.setattr(_runs, "READ_AHEAD_RUNS", read_ahead)
    log("root", 0, ["raw.csv"], ["root.out"])
    for left in range(3):
        log(f"mid{left}", 1 + left, ["root.out"], [f"mid{left}.out"])
        for right in range(2):
            log(f"leaf{left}{right}", 10 + left + right / 4, [f"mid{left}.out"],
                [f"leaf{left}{right}.out"])
    first = mltrace.impact("raw.csv")
    asked = record_sql(monkeypatch, "query")
    read: list[list[str]] = []
    store = state.store()
    text = store.text

    def recording_text(sql: str, parameters: dict[str, Any]) -> str:
        if sql == _sql.load("runs"):
            read.append(parameters["ids"])
        return text(sql, parameters)

    monkeypatch.setattr(store, "text", recording_text)
    again = mltrace.impact("raw.csv")
    assert asked == [_sql.load("pointer_known")]
    components = {run.id: run.component_name for _, run in again.runs}
    assert [sorted(components[run][:3] for run in ids) for ids in read] == reads
    assert again.to_dict() == first.to_dict()
    assert [(level, run.component_name) for level, run in again.runs] == [
        (0, "root"), (1, "mid0"), (2, "leaf00"), (2, "leaf01"), (1, "mid1"), (2, "leaf10"),
        (2, "leaf11"), (1, "mid2"), (2, "leaf20"), (2, "leaf21"),
    ]
    assert [output.name for output in again.final_outputs] == [
        "leaf00.out", "leaf01.out", "leaf10.out", "leaf11.out", "leaf20.out", "leaf21.out",
    ]


def test_sdk_logged_chain_walks_without_store_queries(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs with span links and set_upstream names stay on the in-memory fast path: once the
    index is current, walking a depth-10 chain asks the store nothing."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", "on")
    log("config", 0, outputs=["config.yaml"])
    previous = "raw"
    for stage in range(10):
        log(f"stage{stage}", 1 + stage, [previous, "config.yaml"], [f"s{stage}"], ["config"])
        previous = f"s{stage}"
    store = state.store()
    lineage = Lineage(store)
    root = lineage.latest_producer("s9")
    assert root is not None and lineage.index is not None
    asked = record_sql(monkeypatch, "query", "text", "columns", "command")
    closure = lineage.upstream_closure([root])
    assert asked == []
    history = {run.component_name: run.id for run in mltrace.get_history("config")}
    for stage in range(10):
        history[f"stage{stage}"] = mltrace.get_history(f"stage{stage}")[0].id
    config = history["config"]
    expected = {config: [], history["stage0"]: [config]}
    for stage in range(1, 10):
        expected[history[f"stage{stage}"]] = [history[f"stage{stage - 1}"], config]
    assert closure == expected
    linked = mltrace.query("SELECT count() FROM otel_traces WHERE notEmpty(Links.SpanId)")
    assert linked[0][0] == 10


def test_a_reopened_store_without_new_parts_skips_the_scan_for_new_rows(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is closed after a second idle and opened again on the next query, which
    counts as a possible change: the index lists the tables' parts and, when none changed,
    does not scan LoggedAt again. A run logged later adds a part and is found."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", "on")
    log("prepare", 0, ["raw.csv"], ["clean.csv"])
    log("train", 1, ["clean.csv"], ["model.pkl"])
    assert [run.component_name for _, run in mltrace.trace("model.pkl")] == ["train", "prepare"]
    store = state.store()
    # The runs may have arrived in two inserts (two spool files): merge them now, so no
    # background merge changes the parts between the close and the next query.
    for table in ("mltrace_runs", "mltrace_io"):
        store.command(f"OPTIMIZE TABLE {table} FINAL")
    store.touch()  # the next walk lists the parts again
    assert [run.component_name for _, run in mltrace.trace("model.pkl")] == ["train", "prepare"]
    loaded = record_sql(monkeypatch, "columns")
    watermark = _sql.load("index_watermark")
    store.close()  # as the idle release does; the next query opens the store again
    assert [run.component_name for _, run in mltrace.trace("model.pkl")] == ["train", "prepare"]
    assert watermark not in loaded
    log("evaluate", 2, ["model.pkl"], ["report.html"])
    assert [run.component_name for _, run in mltrace.trace("report.html")] == [
        "evaluate", "train", "prepare",
    ]
    assert watermark in loaded


def _skip_index_granules(explained: list[tuple[str]]) -> tuple[int, int]:
    """(kept, total) granules that the logged_at skipping index reports in EXPLAIN indexes=1."""
    lines = [line.strip() for (line,) in explained]
    after = lines[lines.index("Name: logged_at"):]
    granules = next(line for line in after if line.startswith("Granules:"))
    kept, total = granules.removeprefix("Granules:").strip().split("/")
    return int(kept), int(total)


def test_a_refresh_reads_only_the_granules_logged_since_the_last_one(home: Path) -> None:
    """The minmax index on LoggedAt: in a part holding old rows and a few new ones (a merge;
    parts are sorted by span id or pointer, not by time), the queries a refresh runs read
    the granules holding new rows, not the whole part."""
    for index in range(1000):
        log("batch", index, [f"in{index}"], [f"out{index}"])
    (watermark,), = mltrace.query("SELECT toUnixTimestamp64Nano(max(LoggedAt)) FROM mltrace_runs")
    log("late", 2000, ["out999"], ["late.out"])
    mltrace.query("SELECT 1")  # ingest the late run
    for table in ("mltrace_runs", "mltrace_io"):
        mltrace.query(f"OPTIMIZE TABLE {table} FINAL")  # one part each, index built
    (until,), = mltrace.query("SELECT toUnixTimestamp64Nano(max(LoggedAt)) FROM mltrace_io")
    window = {"after_ns": int(watermark), "until_ns": int(until)}
    for name in ("index_outputs", "index_inputs", "index_links"):
        kept, total = _skip_index_granules(
            mltrace.query(f"EXPLAIN indexes = 1 {_sql.load(name)}", window)
        )
        # the late run's rows (one in mltrace_runs, two in mltrace_io) and nothing else
        assert 1 <= kept <= 2 and total >= 4, (name, kept, total)
