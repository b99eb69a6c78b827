"""Impact analysis: forward lineage from a pointer or a run under the SPEC 3.3 rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _explicit_runs import log_run

import mltrace_otel as mltrace


def levels(result: mltrace.Impact) -> list[tuple[int, str]]:
    return [(level, run.id) for level, run in result.runs]


@pytest.fixture
def pipeline(home: Path) -> dict[str, str]:
    """raw.csv -> clean -> (featurize -> train -> predict, report); an unrelated run."""
    return {
        "clean": log_run("clean", 1, ["raw.csv"], ["clean.csv"]),
        "featurize": log_run("featurize", 2, ["clean.csv"], ["features.csv"]),
        "report": log_run("report", 3, ["clean.csv"], ["report.html"]),
        "train": log_run("train", 4, ["features.csv"], ["model.pkl"]),
        "predict": log_run("predict", 5, ["model.pkl", "features.csv"], ["p1", "p2"]),
        "other": log_run("other", 6, ["elsewhere.csv"], ["unrelated"]),
    }


def test_impact_of_a_root_input(pipeline: dict[str, str]) -> None:
    result = mltrace.impact("raw.csv")
    assert result.kind == "pointer"
    assert levels(result) == [
        (0, pipeline["clean"]),
        (1, pipeline["featurize"]),
        (2, pipeline["train"]),
        (3, pipeline["predict"]),
        (1, pipeline["report"]),
    ]
    assert {(output.name, output.run_id) for output in result.final_outputs} == {
        ("p1", pipeline["predict"]), ("p2", pipeline["predict"]),
        ("report.html", pipeline["report"]),
    }
    assert result.count == 3


def test_impact_of_a_run_by_prefix(pipeline: dict[str, str]) -> None:
    result = mltrace.impact(pipeline["featurize"][:8])
    assert result.kind == "run"
    assert levels(result) == [
        (0, pipeline["featurize"]), (1, pipeline["train"]), (2, pipeline["predict"]),
    ]
    assert sorted(output.name for output in result.final_outputs) == ["p1", "p2"]
    (predict,) = [run for _, run in result.runs if run.id == pipeline["predict"]]
    assert sorted(predict.dependencies) == sorted([pipeline["featurize"], pipeline["train"]])


def test_a_superseded_producer_has_no_downstream(home: Path) -> None:
    """Reading a pointer is not enough: the consumer depends on its latest producer."""
    old = log_run("ingest", 0, [], ["data.csv"])
    new = log_run("ingest", 1, [], ["data.csv"])
    reader = log_run("train", 2, ["data.csv"], ["model"])
    assert levels(mltrace.impact(old)) == [(0, old)]
    assert [output.name for output in mltrace.impact(old).final_outputs] == []
    assert levels(mltrace.impact(new)) == [(0, new), (1, reader)]
    assert levels(mltrace.impact("data.csv")) == [(0, reader)]


def test_versions_pick_the_producer(home: Path) -> None:
    first = log_run("write", 0, [], [mltrace.IOPointer("table", version="v1")])
    log_run("write", 1, [], [mltrace.IOPointer("table", version="v2")])
    reader = log_run("read", 2, [mltrace.IOPointer("table", version="v1")], ["out"])
    assert levels(mltrace.impact(first)) == [(0, first), (1, reader)]


def test_set_upstream_runs_are_downstream(home: Path) -> None:
    upstream = log_run("refresh", 0, [], [])
    named = log_run("notify", 1, [], ["email"], upstream=["refresh"])
    assert levels(mltrace.impact(upstream)) == [(0, upstream), (1, named)]
    assert [output.name for output in mltrace.impact(upstream).final_outputs] == ["email"]


def test_an_output_read_downstream_is_not_final(home: Path) -> None:
    producer = log_run("a", 0, [], ["shared", "leaf"])
    log_run("b", 1, ["shared"], ["end"])
    result = mltrace.impact(producer)
    assert sorted(output.name for output in result.final_outputs) == ["end", "leaf"]


def test_every_reader_of_a_pointer_is_at_level_0(home: Path) -> None:
    """A reader that also reads another reader's output stays at level 0, listed once."""
    log_run("ingest", 0, [], ["raw.csv"])
    log_run("featurize", 1, ["raw.csv"], ["features.parquet"])
    log_run("report", 2, ["raw.csv", "features.parquet"], ["report.html"])
    levels = [(level, run.component_name) for level, run in mltrace.impact("raw.csv").runs]
    assert sorted(levels) == [(0, "featurize"), (0, "report")]


def test_unknown_id(home: Path) -> None:
    log_run("a", 0, [], ["x"])
    with pytest.raises(mltrace.NotFoundError, match="neither a pointer"):
        mltrace.impact("no-such-thing")


def test_cli_impact(pipeline: dict[str, str], run_cli) -> None:
    data = json.loads(run_cli("impact", "clean.csv", "--json", check=True).stdout)
    assert data["kind"] == "pointer"
    assert data["affected_final_outputs"] == 3
    assert [run["level"] for run in data["runs"]] == [0, 1, 2, 0]
    assert [run["id"] for run in data["runs"]] == [
        pipeline["featurize"], pipeline["train"], pipeline["predict"], pipeline["report"],
    ]
    tree = run_cli("impact", pipeline["train"], check=True).stdout
    assert pipeline["predict"] in tree and "2 affected final output(s): p1, p2" in tree
    missing = run_cli("impact", "no-such-thing")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
