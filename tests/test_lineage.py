"""Lineage (SPEC 3.3) and the query API (SPEC 3.4): trace, dependencies, history, recent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mltrace_otel as mltrace
from mltrace_otel import state as _state
from mltrace_otel.lineage import dependencies as _dependencies

pytestmark = pytest.mark.usefixtures("store_backend")  # embedded, serve, clickhouse

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def log(
    component: str,
    start: float,
    end: float,
    inputs: Sequence[str | mltrace.IOPointer] = (),
    outputs: Sequence[str | mltrace.IOPointer] = (),
    upstream: Sequence[str] = (),
    links: bool = True,
) -> str:
    """Log one run with explicit times (seconds after T0); return its run id."""
    run = mltrace.ComponentRun(component)
    run.set_start_timestamp(at(start))
    run.set_end_timestamp(at(end))
    run.add_inputs(list(inputs))
    run.add_outputs(list(outputs))
    if upstream:
        run.set_upstream(list(upstream))
    mltrace.log_component_run(run, set_dependencies_from_inputs=links)
    found = mltrace.get_history(component, limit=100, date_lower=at(start), date_upper=at(start))
    assert len(found) == 1, found
    return found[0].id


@pytest.fixture(params=["links", "store", "index", "links-store", "links-index"])
def links(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Ways to the same lineage: span links logged with the runs (set_dependencies_from_
    inputs=True) or no links, with the rule derived at query time by the store's SQL
    (``store``), by the in-memory lineage index (``index``), or either, as a process
    decides (``links``: the index from its second walk)."""
    mode = {"links": "auto", "store": "off", "index": "on"}
    mode.update({"links-store": "off", "links-index": "on"})
    monkeypatch.setattr(_dependencies, "INDEX_MODE", mode[request.param])
    return request.param.startswith("links")


def names(levels: list[tuple[int, mltrace.Run]]) -> list[tuple[int, str]]:
    return [(level, run.component_name) for level, run in levels]


def deps(run_id: str) -> list[str]:
    """A run's dependencies, as inspect shows them and as a lineage walk finds them."""
    shown = mltrace.get_component_run_information(run_id).dependencies
    walked = _dependencies.Lineage(_state.store()).upstream_closure([run_id])[run_id]
    assert sorted(walked) == sorted(shown), (walked, shown)
    return shown


# -- the original mltrace DAG ------------------------------------------------------------------


def test_four_component_dag_traces_the_second_producer(home: Path, links: bool) -> None:
    c1 = log("c1", 0, 1, inputs=["iop_0"], outputs=["iop_1"], links=links)
    c2 = log("c2", 2, 3, inputs=["iop_0"], outputs=["iop_1"], links=links)
    c3 = log("c3", 4, 5, inputs=["iop_1"], outputs=["iop_3"], links=links)
    c4 = log("c4", 6, 7, inputs=["iop_3"], outputs=["iop_4"], links=links)

    levels = mltrace.trace("iop_4")
    assert names(levels) == [(0, "c4"), (1, "c3"), (2, "c2")]
    assert [run.id for _, run in levels] == [c4, c3, c2]
    assert c1 not in [run.id for _, run in levels]
    assert mltrace.backtrace("iop_4") == levels or names(mltrace.backtrace("iop_4")) == names(
        levels
    )
    assert deps(c3) == [c2]
    assert deps(c4) == [c3]
    assert deps(c1) == [] and deps(c2) == []
    # A pointer written twice traces from its latest producer.
    assert names(mltrace.trace("iop_1")) == [(0, "c2")]


def test_four_component_dag_with_the_decorator(home: Path) -> None:
    def stage(name: str, reads: list[str], writes: list[str]):
        @mltrace.Component(name).run(input_vars=["inputs"], output_vars=["outputs"])
        def run() -> None:
            inputs = reads  # noqa: F841
            outputs = writes  # noqa: F841

        return run

    stage("c1", [], ["iop_1"])()
    stage("c2", [], ["iop_1"])()
    stage("c3", ["iop_1"], ["iop_3"])()
    stage("c4", ["iop_3"], ["iop_4"])()
    levels = mltrace.trace("iop_4")
    assert names(levels) == [(0, "c4"), (1, "c3"), (2, "c2")]
    c2 = mltrace.get_history("c2")[0]
    assert levels[2][1].id == c2.id
    assert levels[1][1].dependencies == [c2.id]


# -- the latest-producer rule ------------------------------------------------------------------


def test_producer_that_started_after_the_consumer_is_not_a_dependency(
    home: Path, links: bool
) -> None:
    early = log("early", 10, 11, outputs=["x"], links=links)
    consumer = log("consumer", 20, 25, inputs=["x"], outputs=["y"], links=links)
    log("late", 22, 23, outputs=["x"], links=links)  # started after the consumer
    log("later", 30, 31, outputs=["x"], links=links)
    assert deps(consumer) == [early]
    assert names(mltrace.trace("y")) == [(0, "consumer"), (1, "early")]
    # The latest producer of x overall is "later".
    assert names(mltrace.trace("x")) == [(0, "later")]


def test_producer_that_started_at_the_same_instant_counts(home: Path) -> None:
    producer = log("same_start_producer", 10, 10.5, outputs=["x"])
    consumer = log("same_start_consumer", 10, 12, inputs=["x"])
    assert deps(consumer) == [producer]


def test_producer_logged_after_the_consumer_is_found_at_query_time(home: Path) -> None:
    consumer = log("consumer", 20, 25, inputs=["x"], outputs=["y"])
    producer = log("producer", 10, 11, outputs=["x"])
    assert deps(consumer) == [producer]
    assert names(mltrace.trace("y")) == [(0, "consumer"), (1, "producer")]


def test_a_producer_logged_later_supersedes_the_link_the_consumer_was_logged_with(
    home: Path, links: bool
) -> None:
    """A link made when the run ended names the producer this process knew; a producer that
    another process logs later, and that started later but no later than the consumer, is the
    dependency (SPEC 3.3), and the link stays on the span for trace viewers."""
    old = log("old", 0, 1, outputs=["x"], links=links)
    consumer = log("consumer", 10, 11, inputs=["x"], outputs=["y"], links=links)
    newer = log("newer", 5, 6, outputs=["x"], links=links)
    assert deps(consumer) == [newer]
    assert names(mltrace.trace("y")) == [(0, "consumer"), (1, "newer")]
    linked = mltrace.query(
        "SELECT Links.SpanId FROM otel_traces WHERE SpanId = {id:String}", {"id": consumer}
    )
    assert linked == [([old] if links else [],)]


def test_a_later_logged_upstream_run_supersedes_the_upstream_link(
    home: Path, links: bool
) -> None:
    log("up", 0, 1, links=links)
    run = log("down", 10, 11, outputs=["out"], upstream=["up"], links=links)
    newer = log("up", 5, 6, links=links)
    assert deps(run) == [newer]
    assert names(mltrace.trace("out")) == [(0, "down"), (1, "up")]


def test_equal_starts_later_end_wins(home: Path, links: bool) -> None:
    long = log("long", 10, 15, outputs=["x"], links=links)
    log("short", 10, 12, outputs=["x"], links=links)  # logged later, ends earlier
    consumer = log("consumer", 20, 21, inputs=["x"], links=links)
    assert deps(consumer) == [long]
    assert names(mltrace.trace("x")) == [(0, "long")]


def test_equal_start_and_end_later_logged_wins(home: Path, links: bool) -> None:
    log("first_logged", 10, 12, outputs=["x"], links=links)
    second = log("second_logged", 10, 12, outputs=["x"], links=links)
    consumer = log("consumer", 20, 21, inputs=["x"], links=links)
    assert deps(consumer) == [second]


def test_versions_match_only_the_same_content(home: Path, links: bool) -> None:
    v1 = log("v1", 1, 2, outputs=[mltrace.IOPointer("m.pkl", version="v1")], links=links)
    v2 = log("v2", 3, 4, outputs=[mltrace.IOPointer("m.pkl", version="v2")], links=links)
    pointer = mltrace.IOPointer
    reads_v1 = log("reads_v1", 5, 6, inputs=[pointer("m.pkl", version="v1")], links=links)
    reads_any = log("reads_any", 7, 8, inputs=["m.pkl"], links=links)
    reads_v3 = log("reads_v3", 9, 10, inputs=[pointer("m.pkl", version="v3")], links=links)
    assert deps(reads_v1) == [v1]
    assert deps(reads_any) == [v2]
    assert deps(reads_v3) == []
    assert v1 != v2


def test_values_are_versioned_by_content_hash(home: Path) -> None:
    writer = mltrace.Component("writer")
    reader = mltrace.Component("reader")

    @writer.run(output_vars=["pointer"])
    def write(value: int) -> None:
        pointer = mltrace.IOPointer("weights.pkl", value=value)  # noqa: F841

    @reader.run(input_vars=["pointer"])
    def read(value: int) -> None:
        pointer = mltrace.IOPointer("weights.pkl", value=value)  # noqa: F841

    write(1)
    write(2)
    read(1)
    first_write = mltrace.get_history("writer")[-1]
    assert mltrace.get_history("reader")[0].dependencies == [first_write.id]


def test_a_run_never_depends_on_itself(home: Path, links: bool) -> None:
    before = log("before", 1, 2, outputs=["state.json"], links=links)
    update = log("update", 3, 4, inputs=["state.json"], outputs=["state.json"], links=links)
    again = log("again", 5, 6, inputs=["state.json"], outputs=["state.json"], links=links)
    alone = log("alone", 0, 0.5, inputs=["own.json"], outputs=["own.json"], links=links)
    assert deps(update) == [before]
    assert deps(again) == [update]
    assert deps(alone) == []
    assert names(mltrace.trace("state.json")) == [(0, "again"), (1, "update"), (2, "before")]
    assert names(mltrace.trace("own.json")) == [(0, "alone")]


def test_set_upstream_depends_on_latest_run_started_no_later(home: Path, links: bool) -> None:
    log("up", 1, 2, links=links)
    middle = log("up", 5, 6, links=links)
    log("up", 20, 21, links=links)
    other = log("side", 3, 4, links=links)
    run = log("down", 10, 11, outputs=["out"], upstream=["up", "side"], links=links)
    assert sorted(deps(run)) == sorted([middle, other])
    traced = names(mltrace.trace("out"))
    assert traced[0] == (0, "down")
    assert sorted(traced[1:]) == [(1, "side"), (1, "up")]


def test_set_upstream_ties_go_to_the_later_end_then_the_later_logged(
    home: Path, links: bool
) -> None:
    """The pointer rule's ties for set_upstream too: same start, the later end; same start
    and end, the later logged (as the SDK's link picks it)."""

    def tied(component: str, end: float) -> str:
        run = mltrace.ComponentRun(component)
        run.set_start_timestamp(at(5))
        run.set_end_timestamp(at(end))
        mltrace.log_component_run(run, set_dependencies_from_inputs=links)
        return run.id

    longer = tied("up", 9)
    tied("up", 6)
    first = tied("tied", 6)
    second = tied("tied", 6)
    run = log("down", 10, 11, outputs=["out"], upstream=["up", "tied"], links=links)
    assert sorted(deps(run)) == sorted([longer, second])
    assert first != second


def test_upstream_chain_without_pointers_traces_the_same_every_time(
    home: Path, links: bool
) -> None:
    """Runs whose only dependencies are set_upstream (no pointers) stay linked on every
    walk, including the walks an in-memory lineage index answers."""
    a = log("a", 1, 2, links=links)
    b = log("b", 3, 4, upstream=["a"], links=links)
    c = log("c", 5, 6, outputs=["out"], upstream=["b"], links=links)
    for _ in range(3):
        levels = mltrace.trace("out")
        assert [(level, run.id) for level, run in levels] == [(0, c), (1, b), (2, a)]


def test_set_upstream_accepts_a_single_name(home: Path) -> None:
    up = log("up", 1, 2)
    run = mltrace.ComponentRun("down")
    run.set_start_timestamp(at(3))
    run.set_upstream("up")
    run.set_upstream(["up"])
    run.set_end_timestamp(at(4))
    mltrace.log_component_run(run)
    (down,) = mltrace.get_history("down")
    assert down.dependencies == [up]


def test_trace_is_depth_first_and_lists_each_run_once(home: Path) -> None:
    log("source", 1, 2, outputs=["a"])
    log("left", 3, 4, inputs=["a"], outputs=["b"])
    log("right", 5, 6, inputs=["a"], outputs=["c"])
    log("join", 7, 8, inputs=["b", "c"], outputs=["d"])
    traced = names(mltrace.trace("d"))
    assert traced[0] == (0, "join")
    assert sorted(traced) == sorted([(0, "join"), (1, "left"), (1, "right"), (2, "source")])
    # Depth-first: the shared source comes right after the first branch that reaches it.
    first_branch = traced.index((2, "source")) - 1
    assert traced[first_branch][0] == 1


def test_deep_chain_traces_every_level(home: Path) -> None:
    previous = "raw"
    for index in range(12):
        log(f"step{index}", index * 10, index * 10 + 1, inputs=[previous], outputs=[f"p{index}"])
        previous = f"p{index}"
    traced = names(mltrace.trace("p11"))
    assert traced == [(level, f"step{11 - level}") for level in range(12)]


# -- errors and ids ----------------------------------------------------------------------------


def test_unknown_output_id_is_a_clear_not_found_error(home: Path) -> None:
    log("something", 1, 2, outputs=["known"])
    with pytest.raises(mltrace.NotFoundError, match="no-such-output") as caught:
        mltrace.trace("no-such-output")
    assert isinstance(caught.value, RuntimeError)
    with pytest.raises(RuntimeError):
        mltrace.backtrace("no-such-output")
    # An input that nobody produced is not an output either.
    log("reader", 3, 4, inputs=["only-read"])
    with pytest.raises(mltrace.NotFoundError):
        mltrace.trace("only-read")


def test_run_id_prefix_of_six_or_more_characters_is_accepted(home: Path) -> None:
    run_id = log("prefixed", 1, 2, outputs=["o"])
    assert mltrace.get_component_run_information(run_id).id == run_id
    assert mltrace.get_component_run_information(run_id[:6]).id == run_id
    assert mltrace.get_component_run_information(run_id[:10].upper()).id == run_id
    with pytest.raises(mltrace.NotFoundError, match="6"):
        mltrace.get_component_run_information(run_id[:5])
    with pytest.raises(mltrace.NotFoundError):
        mltrace.get_component_run_information("zzzzzzzz")
    unused = "0" * 16 if not run_id.startswith("0" * 6) else "f" * 16
    with pytest.raises(mltrace.NotFoundError):
        mltrace.get_component_run_information(unused)


def test_ambiguous_run_id_prefix_is_rejected(home: Path) -> None:
    from _support import insert_span

    insert_span("abcdef0000000001", "ambiguous", at(1), at(2))
    insert_span("abcdef0000000002", "ambiguous", at(3), at(4))
    with pytest.raises(mltrace.NotFoundError, match="ambiguous"):
        mltrace.get_component_run_information("abcdef")
    with pytest.raises(mltrace.NotFoundError, match="ambiguous"):  # not "neither a pointer"
        mltrace.impact("abcdef")
    assert mltrace.get_component_run_information("abcdef0000000002").id == "abcdef0000000002"


# -- history and recent ------------------------------------------------------------------------


def test_get_history_is_newest_first_with_limit_and_date_bounds(home: Path) -> None:
    ids = [log("hist", day * 86400, day * 86400 + 60) for day in range(12)]
    log("other", 5 * 86400 + 1, 5 * 86400 + 2)

    default = mltrace.get_history("hist")
    assert [run.id for run in default] == ids[::-1][:10]
    assert [run.id for run in mltrace.get_history("hist", limit=3)] == ids[::-1][:3]
    assert [run.id for run in mltrace.get_history("hist", limit=100)] == ids[::-1]
    bounded = mltrace.get_history(
        "hist", limit=100, date_lower=at(3 * 86400), date_upper=at(6 * 86400)
    )
    assert [run.id for run in bounded] == [ids[6], ids[5], ids[4], ids[3]]
    # Naive bounds are UTC.
    naive = mltrace.get_history(
        "hist",
        limit=100,
        date_lower=at(3 * 86400).replace(tzinfo=None) + timedelta(seconds=1),
        date_upper=at(6 * 86400).replace(tzinfo=None) - timedelta(seconds=1),
    )
    assert [run.id for run in naive] == [ids[5], ids[4]]
    assert mltrace.get_history("hist", limit=100, date_lower=at(100 * 86400)) == []
    assert mltrace.get_history("nobody") == []
    assert all(run.component_name == "hist" for run in default)


def test_get_recent_run_ids_newest_first_across_components(home: Path) -> None:
    ids = [log(f"comp{index % 3}", index, index + 0.5) for index in range(8)]
    assert mltrace.get_recent_run_ids() == ids[::-1][:5]
    assert mltrace.get_recent_run_ids(limit=2) == ids[::-1][:2]
    assert mltrace.get_recent_run_ids(limit=100) == ids[::-1]
    assert all(isinstance(run_id, str) for run_id in ids)


def test_recent_runs_stay_distinct_when_the_newest_spans_were_stored_many_times(
    home: Path,
) -> None:
    ids = [log(f"comp{index % 3}", index, index + 0.5) for index in range(40)]
    store = _state.store()
    newest = ids[-1]
    for _ in range(5):  # 32 copies of the newest run: more than the newest rows read first
        store.command("INSERT INTO otel_traces SELECT * FROM otel_traces "
                      "WHERE SpanId = {id:String}", {"id": newest})
    assert mltrace.query("SELECT count() FROM mltrace_runs WHERE SpanId = {id:String}",
                         {"id": newest}) == [(32,)]
    assert mltrace.get_recent_run_ids(limit=3) == ids[::-1][:3]
    assert mltrace.get_recent_run_ids(limit=10) == ids[::-1][:10]
    assert mltrace.get_recent_run_ids(limit=100) == ids[::-1]


def test_run_information_exposes_the_documented_fields(home: Path) -> None:
    producer = log("producer", 1, 2, inputs=["raw.csv"], outputs=["model.pkl"])
    consumer = log("consumer", 3, 4, inputs=["model.pkl"], outputs=["preds.csv"])
    run = mltrace.get_component_run_information(consumer)
    assert run.id == consumer
    assert run.component_name == "consumer"
    assert run.start_timestamp == at(3) and run.end_timestamp == at(4)
    assert run.inputs == ["model.pkl"] and run.outputs == ["preds.csv"]
    assert run.input_pointers[0].pointer_type == "MODEL"
    assert run.dependencies == [producer]
    assert run.status == "OK"
    assert isinstance(run.stale, list)
    assert isinstance(run.test_results, list)
    assert len(run.trace_id) == 32
    data = run.to_dict()
    assert data["id"] == consumer and data["outputs"] == ["preds.csv"]
    assert data["dependencies"] == [producer]


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_repeated_traces_see_runs_logged_in_between(
    home: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Read-your-writes for a process that walks lineage again and again (a notebook)."""
    monkeypatch.setattr(_dependencies, "INDEX_MODE", mode)
    previous = "seed"
    for index in range(5):
        run = mltrace.ComponentRun(f"stage{index}")
        run.set_start_timestamp(at(index * 10))
        run.set_end_timestamp(at(index * 10 + 1))
        run.add_input(previous)
        run.add_output(f"out{index}")
        mltrace.log_component_run(run, set_dependencies_from_inputs=False)
        previous = f"out{index}"
        expected = [(level, f"stage{index - level}") for level in range(index + 1)]
        assert names(mltrace.trace(previous)) == expected
        assert names(mltrace.trace(previous)) == expected  # the same cell run twice


def test_configure_forgets_runs_of_the_previous_store(tmp_path):
    """A run logged against one store must not get a span link to a run of another."""
    first, second = tmp_path / "first", tmp_path / "second"
    mltrace.configure(backend="local", home=first)
    producer = mltrace.ComponentRun("producer")
    producer.set_start_timestamp()
    producer.add_output("shared.csv")
    producer.set_end_timestamp()
    mltrace.log_component_run(producer)
    mltrace.configure(backend="local", home=second)
    consumer = mltrace.ComponentRun("consumer")
    consumer.set_start_timestamp()
    consumer.add_input("shared.csv")
    consumer.add_output("out.csv")
    consumer.set_end_timestamp()
    mltrace.log_component_run(consumer)
    [(level, run)] = mltrace.trace("out.csv")
    assert (level, run.component_name, run.dependencies) == (0, "consumer", [])
    links = mltrace.query("SELECT length(`Links.SpanId`) FROM otel_traces")
    assert links == [(0,)]
    mltrace.configure(backend="local", home=tmp_path / "parked")
