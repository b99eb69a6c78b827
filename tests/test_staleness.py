"""Staleness (SPEC 3.4): both rules, computed in SQL, on every run a query returns."""

from __future__ import annotations

import gc
import json
import weakref
from datetime import timedelta
from pathlib import Path

import pytest
from _explicit_runs import T0, log_run
from _support import insert_span

import mltrace_otel as mltrace
from mltrace_otel import semconv, state

pytestmark = pytest.mark.usefixtures("store_backend")  # embedded, serve, clickhouse

DAY = 24 * 60 * 60


def stale_of(run_id: str) -> list[str]:
    return mltrace.get_component_run_information(run_id).stale


def test_rule_1_dependency_40_days_older(home: Path) -> None:
    ingest = log_run("ingest", 0, [], ["raw.csv"])
    train = log_run("train", 40, ["raw.csv"], ["model.pkl"])
    assert stale_of(train) == [f"ingest (ID {ingest}) was run 40 days ago."]
    assert stale_of(ingest) == []


def test_rule_1_uses_whole_days_and_the_consumers_threshold(home: Path) -> None:
    log_run("ingest", 0, [], ["raw.csv"])
    relaxed = log_run("train", 40.9, ["raw.csv"], ["m1"], threshold=50 * DAY)
    strict = log_run("score", 10.5, ["raw.csv"], ["m2"], threshold=10 * DAY)
    fresh = log_run("score", 29.9, ["raw.csv"], ["m3"])  # default: 30 days
    assert stale_of(relaxed) == []
    assert [message.split(") ")[1] for message in stale_of(strict)] == ["was run 10 days ago."]
    assert stale_of(fresh) == []


def test_rule_1_default_threshold_for_spans_without_one(home: Path) -> None:
    """A run logged by another SDK without the threshold attribute gets 30 days."""
    ingest = log_run("ingest", 0, [], ["raw.csv"])
    insert_span("ab" * 8, "foreign", T0 + timedelta(days=31), T0 + timedelta(days=31, hours=1),
                inputs=["raw.csv"], outputs=["out"])
    assert stale_of("ab" * 8) == [f"ingest (ID {ingest}) was run 31 days ago."]
    insert_span("cd" * 8, "foreign", T0 + timedelta(days=32), T0 + timedelta(days=32, hours=1),
                inputs=["raw.csv"], outputs=["out2"],
                extra_attributes={semconv.RUN_STALENESS_THRESHOLD: str(40 * DAY)})
    assert stale_of("cd" * 8) == []


def test_rule_1_a_zero_threshold_means_zero_seconds(home: Path) -> None:
    """0 is a threshold (as in mltrace: any dependency that started earlier), not "unset"."""
    ingest = log_run("ingest", 0, [], ["raw.csv"])
    eager = log_run("train", 0.5, ["raw.csv"], ["model.pkl"], threshold=0)
    assert stale_of(eager) == [f"ingest (ID {ingest}) was run 0 days ago."]
    assert mltrace.get_component_run_information(eager).staleness_threshold == 0
    foreign = "ef" * 8  # another SDK's span with no threshold: 30 days, shown as such
    insert_span(foreign, "foreign", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1),
                inputs=["raw.csv"], outputs=["out"])
    assert stale_of(foreign) == []
    assert mltrace.get_component_run_information(foreign).staleness_threshold == 30 * DAY


def test_rule_2_superseded_dependency(home: Path) -> None:
    """The dependency's component ran again before the consumer started."""
    first = log_run("ingest", 0, [], ["raw.csv"])
    log_run("ingest", 1, [], ["other.csv"])
    train = log_run("train", 2, ["raw.csv"], ["model.pkl"])
    assert stale_of(train) == [
        f"ingest (ID {first}) has 1 fresher run that began before this component run started."
    ]
    log_run("ingest", 1.5, [], ["third.csv"])
    assert stale_of(train) == [
        f"ingest (ID {first}) has 2 fresher runs that began before this component run started."
    ]


def test_rule_2_ignores_runs_after_the_consumer_started(home: Path) -> None:
    log_run("ingest", 0, [], ["raw.csv"])
    train = log_run("train", 2, ["raw.csv"], ["model.pkl"])
    log_run("ingest", 3, [], ["other.csv"])
    assert stale_of(train) == []


def test_rule_2_counts_runs_strictly_between_both_starts(home: Path) -> None:
    """A run that began with the dependency is not after it, one that began with the
    consumer is not before it; several pairs share one query (history reads them together)."""
    first = log_run("ingest", 0, [], ["raw.csv"])
    twin = mltrace.ComponentRun("ingest")  # the same start as `first`
    twin.set_start_timestamp(T0)
    twin.set_end_timestamp(T0 + timedelta(minutes=1))
    twin.add_output("twin.csv")
    mltrace.log_component_run(twin)
    second = log_run("ingest", 1, [], ["other.csv"])
    log_run("ingest", 2, [], ["with-train.csv"])
    early = log_run("train", 2, ["raw.csv"], ["m1"])
    late = log_run("train", 3, ["other.csv"], ["m2"])
    fresher = "{} (ID {}) has 1 fresher run that began before this component run started."
    assert {run.id: run.stale for run in mltrace.get_history("train")} == {
        early: [fresher.format("ingest", first)],
        late: [fresher.format("ingest", second)],
    }


def test_both_rules_in_order(home: Path) -> None:
    first = log_run("ingest", 0, [], ["raw.csv"])
    log_run("ingest", 20, [], ["other.csv"])
    train = log_run("train", 45, ["raw.csv"], ["model.pkl"])
    assert stale_of(train) == [
        f"ingest (ID {first}) was run 45 days ago.",
        f"ingest (ID {first}) has 1 fresher run that began before this component run started.",
    ]


def test_stale_on_trace_history_and_stale_runs(home: Path) -> None:
    log_run("ingest", 0, [], ["raw.csv"])
    old_train = log_run("train", 1, ["raw.csv"], ["old-model"])
    train = log_run("train", 40, ["raw.csv"], ["model.pkl"])
    serve = log_run("serve", 41, ["model.pkl"], ["preds"])
    trace = {run.component_name: run for _, run in mltrace.trace("preds")}
    assert trace["train"].stale and not trace["serve"].stale and not trace["ingest"].stale
    history = mltrace.get_history("train")
    assert [bool(run.stale) for run in history] == [True, False]
    assert [run.id for run in mltrace.get_stale_runs()] == [train]
    assert mltrace.get_stale_runs("serve") == []
    assert old_train not in [run.id for run in mltrace.get_stale_runs("train")]
    assert serve not in [run.id for run in mltrace.get_stale_runs()]


def test_cli_stale_inspect_and_trace_marker(home: Path, run_cli) -> None:
    ingest = log_run("ingest", 0, [], ["raw.csv"])
    train = log_run("train", 40, ["raw.csv"], ["model.pkl"])
    listed = json.loads(run_cli("stale", "--json", check=True).stdout)
    assert [(run["id"], run["stale"]) for run in listed] == [
        (train, [f"ingest (ID {ingest}) was run 40 days ago."])
    ]
    assert json.loads(run_cli("stale", "--component", "ingest", "--json").stdout) == []
    assert "was run 40 days ago" in run_cli("stale", check=True).stdout
    assert "was run 40 days ago" in run_cli("inspect", train, check=True).stdout
    tree = run_cli("trace", "model.pkl", check=True).stdout
    (train_line,) = [line for line in tree.splitlines() if train in line]
    assert "(stale)" in train_line
    (ingest_line,) = [line for line in tree.splitlines() if ingest in line]
    assert "(stale)" not in ingest_line


def test_a_run_is_not_fresher_than_its_own_dependency(home: Path) -> None:
    """Incremental training reads the model its component wrote last time."""
    log_run("train", 0, [], ["model.pkl"])
    second = log_run("train", 1, ["model.pkl"], ["model.pkl"])
    third = log_run("train", 2, ["model.pkl"], ["model.pkl"])
    assert stale_of(second) == [] and stale_of(third) == []


def test_staleness_and_notes_load_on_first_read_for_the_whole_result(home: Path) -> None:
    """trace returns runs whose stale/notes are read lazily, in one batch, even after the
    store was closed in between (the next read reopens it)."""
    ingest = log_run("ingest", 0, [], ["raw.csv"])
    train = log_run("train", 40, ["raw.csv"], ["model.pkl"])
    mltrace.add_notes_to_component_run(ingest, "raw dump from the CRM")
    levels = mltrace.trace("model.pkl")
    state.store().close()
    by_id = {run.id: run for _, run in levels}
    assert by_id[train].stale == [f"ingest (ID {ingest}) was run 40 days ago."]
    assert by_id[ingest].notes.endswith("raw dump from the CRM")
    assert by_id[train].to_dict()["stale"] == by_id[train].stale


def test_query_results_are_freed_without_the_cyclic_collector(home: Path) -> None:
    """Runs share their lazy loader, which holds them weakly: a dropped result is freed by
    reference counting (no cycle for a gen-2 pass), and a run kept alone still loads."""
    ingest = log_run("ingest", 0, [], ["raw.csv"])
    train = log_run("train", 40, ["raw.csv"], ["model.pkl"])
    gc.collect()
    gc.disable()
    try:
        levels = mltrace.trace("model.pkl")
        dropped = weakref.ref(next(run for _, run in levels if run.id == ingest))
        kept = next(run for _, run in levels if run.id == train)
        del levels
        assert dropped() is None
        assert kept.stale == [f"ingest (ID {ingest}) was run 40 days ago."]
    finally:
        gc.enable()
