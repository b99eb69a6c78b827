"""Notes added to logged runs: stored beside otel_traces, merged into ``run.notes``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _explicit_runs import log_run

import mltrace_otel as mltrace


def test_added_notes_follow_the_logged_notes(home: Path) -> None:
    run_id = log_run("train", 0, [], ["model.pkl"], notes="baseline")
    assert mltrace.add_notes_to_component_run(run_id[:8], "AUC dropped") == "baseline\nAUC dropped"
    mltrace.add_notes_to_component_run(run_id, "retrained with more data")
    run = mltrace.get_component_run_information(run_id)
    assert run.notes == "baseline\nAUC dropped\nretrained with more data"
    (_, traced), = mltrace.trace("model.pkl")
    assert traced.notes == run.notes


def test_notes_on_a_run_logged_without_notes_survive_a_restart(home: Path) -> None:
    run_id = log_run("clean", 0, [], ["clean.csv"])
    other = log_run("other", 1, [], ["x"])
    mltrace.add_notes_to_component_run(run_id, "check the null rate")
    mltrace.configure(home=home)
    assert mltrace.get_component_run_information(run_id).notes == "check the null rate"
    assert mltrace.get_component_run_information(other).notes == ""


def test_bad_input(home: Path) -> None:
    run_id = log_run("clean", 0, [], ["clean.csv"])
    with pytest.raises(mltrace.NotFoundError):
        mltrace.add_notes_to_component_run("ffffffffffffffff", "nobody")
    with pytest.raises(ValueError, match="non-empty"):
        mltrace.add_notes_to_component_run(run_id, "  ")


def test_cli_note_and_inspect(home: Path, run_cli) -> None:
    run_id = log_run("train", 0, [], ["model.pkl"])
    added = run_cli("note", run_id[:10], "see [JIRA-12]; it's 'fine'", check=True)
    assert added.stdout.strip() == "see [JIRA-12]; it's 'fine'"
    assert "see [JIRA-12]; it's 'fine'" in run_cli("inspect", run_id, check=True).stdout
    data = json.loads(run_cli("inspect", run_id, "--json", check=True).stdout)
    assert data["notes"] == "see [JIRA-12]; it's 'fine'"
    missing = run_cli("note", "ffffffffffffffff", "x")
    assert missing.returncode != 0
    assert missing.stderr.strip() == "Error: no run with id 'ffffffffffffffff'"
