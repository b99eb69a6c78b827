"""mltrace's query and helper functions used the way its docs and tests use them: flags and
review, notes, components and tags, save/load inside a run, set_address."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mltrace_otel as mltrace

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)


def explicit(component: str, inputs: list[str], outputs: list[str], minute: int) -> str:
    start = T0 + timedelta(minutes=minute)
    run = mltrace.ComponentRun(component, start, start + timedelta(seconds=1), inputs, outputs)
    mltrace.log_component_run(run)
    return str(run.id)


def test_flags_and_review_return_mltraces_shapes(home: Path) -> None:
    ingest = explicit("ingest", ["raw"], ["clean"], 0)
    first = explicit("predict", ["clean"], ["out-1"], 1)
    second = explicit("predict", ["clean"], ["out-2"], 2)
    assert mltrace.flag_output_id("out-1") is True
    assert mltrace.flag_output_id("out-2") is True
    flagged, counts = mltrace.review_flagged_outputs()
    assert sorted(flagged) == ["out-1", "out-2"]
    assert [(run.id, count) for run, count in counts] == [(ingest, 2), (second, 1), (first, 1)]
    assert mltrace.unflag_output_id("out-1") is False
    assert mltrace.review_flagged_outputs()[0] == ["out-2"]
    mltrace.unflag_all()
    assert mltrace.review_flagged_outputs() == ([], [])
    with pytest.raises(RuntimeError):
        mltrace.flag_output_id("no-such-output")


def test_notes_components_and_tags(home: Path) -> None:
    mltrace.create_component("cleaning", "Removes records out of bounds", "shreya", ["etl"])
    mltrace.tag_component("cleaning", ["daily"])
    run_id = explicit("cleaning", ["raw.csv"], ["clean.csv"], 0)
    assert mltrace.add_notes_to_component_run(run_id, "checked by hand") == "checked by hand"
    assert mltrace.get_component_run_information(run_id).notes == "checked by hand"
    info = mltrace.get_component_information("cleaning")
    assert (info.name, info.owner, info.description) == (
        "cleaning", "shreya", "Removes records out of bounds")
    assert sorted(info.tags) == ["daily", "etl"]
    assert sorted(mltrace.get_tags()) == ["daily", "etl"]
    assert [c.name for c in mltrace.get_components(tag="etl")] == ["cleaning"]
    assert [c.name for c in mltrace.get_components(owner="shreya")] == ["cleaning"]
    assert mltrace.get_components(tag="etl", owner="nobody") == []
    with pytest.raises(RuntimeError):
        mltrace.get_component_information("missing")
    with pytest.raises(RuntimeError):
        mltrace.get_component_run_information("ffffffffffffffff")


def test_save_and_load_inside_runs_are_logged(home: Path) -> None:
    target = str(home / "model.pkl")

    @mltrace.Component("train").run
    def train() -> str:
        return mltrace.save({"weights": [1, 2]}, pathname=target)

    @mltrace.Component("serve").run
    def serve() -> dict:
        return mltrace.load(pathname=target)

    assert train() == target
    assert serve() == {"weights": [1, 2]}
    (trained,) = mltrace.get_history("train")
    (served,) = mltrace.get_history("serve")
    assert trained.outputs == [target] and served.inputs == [target]
    assert served.dependencies == [trained.id]
    assert trained.output_pointers[0].version == served.input_pointers[0].version != ""


def test_explicit_run_with_git_hash_and_upstream(home: Path) -> None:
    producer = explicit("extract", [], ["e.csv"], 0)
    run = mltrace.ComponentRun("cleaning")
    run.set_start_timestamp(T0 + timedelta(minutes=5))
    run.add_input("elsewhere.csv")
    run.git_hash = mltrace.get_git_hash()
    run.set_upstream("extract")
    run.set_end_timestamp(T0 + timedelta(minutes=6))
    mltrace.log_component_run(run, set_dependencies_from_inputs=False)
    logged = mltrace.get_component_run_information(str(run.id))
    assert logged.dependencies == [producer]
    assert logged.git_hash == (run.git_hash or "")


def test_set_address_points_at_a_clickhouse_server(home: Path) -> None:
    try:
        settings = mltrace.set_address("127.0.0.1")
        assert (settings.backend, settings.url) == ("clickhouse", "http://127.0.0.1:8123")
        assert mltrace.get_db_uri() == "http://127.0.0.1:8123"
    finally:
        mltrace.configure(backend="local", home=home)
