"""Flag and review (SPEC 3.4) with coverage and the Ochiai suspiciousness score."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _explicit_runs import log_run

import mltrace_otel as mltrace
from mltrace_otel import state

pytestmark = pytest.mark.usefixtures("store_backend")  # embedded, serve, clickhouse


def named(pairs) -> list[tuple[str, int]]:
    return [(run.component_name, count) for run, count in pairs]


@pytest.fixture
def original(home: Path) -> dict[str, str]:
    """mltrace's review scenario: A writes iop_1 and iop_2; B1 reads iop_1 -> iop_3;
    B2 reads iop_2 -> iop_4."""
    return {
        "A": log_run("A", 0, [], ["iop_1", "iop_2"]),
        "B1": log_run("B1", 1, ["iop_1"], ["iop_3"]),
        "B2": log_run("B2", 2, ["iop_2"], ["iop_4"]),
    }


def test_original_review_scenario(original: dict[str, str]) -> None:
    mltrace.flag_output_id("iop_3")
    mltrace.flag_output_id("iop_4")
    flagged, ranked = mltrace.review_flagged_outputs()
    assert flagged == ["iop_3", "iop_4"]
    assert named(ranked) == [("A", 2), ("B2", 1), ("B1", 1)]
    assert [run.id for run, _ in ranked] == [original["A"], original["B2"], original["B1"]]
    assert ranked[0][0].outputs == ["iop_1", "iop_2"]


def test_nothing_flagged(original: dict[str, str]) -> None:
    assert mltrace.review_flagged_outputs() == ([], [])
    assert mltrace.review().suspects == []


def test_flags_last_write_wins_and_survive_a_restart(original: dict[str, str], home: Path) -> None:
    mltrace.flag_output_id("iop_3")
    mltrace.unflag_output_id("iop_3")
    mltrace.flag_output_id("iop_4")
    mltrace.unflag_output_id("iop_4")
    mltrace.flag_output_id("iop_4")
    active = state.settings()  # a new store session, as after a restart
    mltrace.configure(backend=active.backend, home=home, url=active.url)
    flagged, ranked = mltrace.review_flagged_outputs()
    assert flagged == ["iop_4"]
    assert named(ranked) == [("B2", 1), ("A", 1)]


def test_unflag_all(original: dict[str, str]) -> None:
    mltrace.flag_output_id("iop_3")
    mltrace.flag_output_id("iop_4")
    mltrace.unflag_all()
    assert mltrace.review_flagged_outputs() == ([], [])
    mltrace.flag_output_id("iop_3")
    assert mltrace.review_flagged_outputs()[0] == ["iop_3"]


def test_flag_and_unflag_of_unknown_ids(original: dict[str, str]) -> None:
    with pytest.raises(mltrace.NotFoundError, match="no run read or wrote"):
        mltrace.flag_output_id("never-logged")
    with pytest.raises(mltrace.NotFoundError):
        mltrace.unflag_output_id("never-logged")
    mltrace.unflag_output_id("iop_3")  # known but not flagged: nothing to do
    assert mltrace.review_flagged_outputs() == ([], [])


def test_a_run_counts_once_per_flagged_output(home: Path) -> None:
    """A diamond reaches the root twice; it still counts once for the output."""
    root = log_run("load", 0, [], ["raw"])
    log_run("left", 1, ["raw"], ["l"])
    log_run("right", 2, ["raw"], ["r"])
    log_run("join", 3, ["l", "r"], ["out"])
    mltrace.flag_output_id("out")
    _, ranked = mltrace.review_flagged_outputs()
    assert named(ranked) == [("join", 1), ("right", 1), ("left", 1), ("load", 1)]
    assert ranked[-1][0].id == root


def test_review_follows_the_latest_producer(home: Path) -> None:
    log_run("write", 0, [], ["x"])
    second = log_run("write", 1, [], ["x"])
    log_run("read", 2, ["x"], ["y"])
    mltrace.flag_output_id("y")
    _, ranked = mltrace.review_flagged_outputs()
    assert [run.id for run, _ in ranked][1:] == [second]


@pytest.fixture
def featurize(home: Path) -> dict[str, str]:
    """One ingest feeds a good and a bad featurize run; three predict runs read the good
    features and two the bad ones, each writing two prediction ids."""
    ids = {
        "ingest": log_run("ingest", 0, ["s3://raw"], ["raw.csv"]),
        "good": log_run("featurize", 1, ["raw.csv"], ["features_a.parquet"]),
        "bad": log_run("featurize", 2, ["raw.csv"], ["features_b.parquet"]),
    }
    for number in range(3):
        outputs = [f"pred_a{number}_{index}" for index in range(2)]
        ids[f"predict_a{number}"] = log_run("predict", 3 + number, ["features_a.parquet"], outputs)
    for number in range(2):
        outputs = [f"pred_b{number}_{index}" for index in range(2)]
        ids[f"predict_b{number}"] = log_run("predict", 6 + number, ["features_b.parquet"], outputs)
    for output in ["pred_b0_0", "pred_b0_1", "pred_b1_0", "pred_b1_1", "pred_a0_0"]:
        mltrace.flag_output_id(output)
    return ids


def test_ochiai_ranks_the_bad_featurize_run_first(featurize: dict[str, str]) -> None:
    result = mltrace.review()
    by_id = {suspect.run.id: suspect for suspect in result.suspects}
    assert result.suspects[0].run.id == featurize["bad"]
    ingest, bad, good = (by_id[featurize[name]] for name in ("ingest", "bad", "good"))
    assert (ingest.count, ingest.involved, ingest.coverage) == (5, 10, 1.0)
    assert (bad.count, bad.involved) == (4, 4)
    assert (good.count, good.involved) == (1, 6)
    assert bad.score == pytest.approx(4 / math.sqrt(5 * 4))
    assert ingest.score == pytest.approx(5 / math.sqrt(5 * 10))
    assert good.score == pytest.approx(1 / math.sqrt(5 * 6))
    scores = [suspect.score for suspect in result.suspects]
    assert scores == sorted(scores, reverse=True)


def test_coverage_order_puts_the_shared_ingest_first(featurize: dict[str, str]) -> None:
    result = mltrace.review(sort="coverage")
    assert [suspect.run.id for suspect in result.suspects[:2]] == [
        featurize["ingest"], featurize["bad"],
    ]
    counts = [suspect.count for suspect in result.suspects]
    assert counts == sorted(counts, reverse=True)
    assert mltrace.review(limit=3).suspects[0].run.id == featurize["bad"]
    assert len(mltrace.review(limit=3).suspects) == 3
    with pytest.raises(ValueError, match="unknown sort"):
        mltrace.review(sort="alphabetical")


def test_a_flagged_output_read_downstream_still_counts(home: Path) -> None:
    """Flagged outputs are outputs even when another run reads them: scores stay <= 1."""
    model = log_run("train", 0, [], ["model.pkl"])
    log_run("evaluate", 1, ["model.pkl"], ["report.html"])
    mltrace.flag_output_id("model.pkl")
    (suspect,) = mltrace.review().suspects
    assert suspect.run.id == model
    assert (suspect.count, suspect.involved) == (1, 2)
    assert suspect.score == pytest.approx(1 / math.sqrt(2))


def test_review_marks_stale_runs(home: Path) -> None:
    log_run("ingest", 0, [], ["raw"])
    log_run("train", 40, ["raw"], ["model"])
    mltrace.flag_output_id("model")
    train = mltrace.review().suspects[0].run
    assert train.component_name == "train"
    assert train.stale and "was run 40 days ago" in train.stale[0]


def test_cli_flag_unflag_review(original: dict[str, str], run_cli) -> None:
    assert run_cli("flag", "iop_3", check=True).stdout.strip() == "flagged iop_3"
    run_cli("flag", "iop_4", check=True)
    report = json.loads(run_cli("review", "--json", check=True).stdout)
    assert report["flagged_outputs"] == ["iop_3", "iop_4"]
    assert [item["run"]["component_name"] for item in report["suspects"]] == ["A", "B2", "B1"]
    assert [item["count"] for item in report["suspects"]] == [2, 1, 1]
    assert report["suspects"][0]["score"] == pytest.approx(1.0)
    limited = json.loads(run_cli("review", "--limit", "1", "--sort", "coverage", "--json").stdout)
    assert [item["run"]["id"] for item in limited["suspects"]] == [original["A"]]
    table = run_cli("review", check=True).stdout
    assert "2/2 (100%)" in table and original["B1"] in table and "score" in table
    run_cli("unflag", "iop_3", check=True)
    assert json.loads(run_cli("review", "--json").stdout)["flagged_outputs"] == ["iop_4"]
    run_cli("unflag", "--all", check=True)
    assert "no flagged outputs" in run_cli("review", check=True).stdout


def test_cli_errors_are_one_line(original: dict[str, str], run_cli) -> None:
    unknown = run_cli("flag", "never-logged")
    assert unknown.returncode != 0
    assert unknown.stderr.strip().splitlines() == [
        "Error: cannot flag 'never-logged': no run read or wrote it"
    ]
    both = run_cli("unflag", "iop_3", "--all")
    assert both.returncode != 0 and "either OUTPUT_ID or --all" in both.stderr
    assert "Traceback" not in unknown.stderr + both.stderr


def test_cli_review_shows_each_runs_status(home: Path, run_cli) -> None:
    stage = mltrace.Component("fails")

    @stage.run(output_vars=["out"])
    def step() -> None:
        out = "bad.csv"  # noqa: F841 (logged as the output)
        raise ValueError("boom")

    with pytest.raises(ValueError):
        step()
    mltrace.flag_output_id("bad.csv")
    (row,) = [line for line in run_cli("review", check=True).stdout.splitlines()
              if "fails" in line]
    assert "ERROR" in row
