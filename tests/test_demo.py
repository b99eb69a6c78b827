"""``mltrace demo`` end to end: the churn example runs in separate processes and its last
prediction traces back through every stage, from the demo and from the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mltrace_otel import semconv
from mltrace_otel.cli import demo as _demo

STAGES = ["predict", "train", "featurize", "clean", "ingest"]
"""The trace of a prediction: component at each level, from level 0."""


@dataclass(frozen=True)
class Demo:
    home: Path
    pid: int
    returncode: int
    stdout: str
    stderr: str

    @property
    def prediction_id(self) -> str:
        uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        match = re.search(rf"^Last prediction id: ({uuid})$", self.stdout, re.MULTILINE)
        assert match, self.stdout
        return match.group(1)


def _mltrace(home: Path, *args: str) -> Any:
    """Run the ``mltrace`` CLI as a user would, with MLTRACE_HOME set; parse its JSON."""
    env = {**os.environ, "MLTRACE_HOME": str(home), "MLTRACE_BACKEND": "local"}
    result = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("demo-home")
    process = subprocess.Popen(
        [sys.executable, "-m", "mltrace_otel.cli", "demo", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate(timeout=300)
    return Demo(home, process.pid, process.returncode, stdout, stderr)


def test_demo_prints_prediction_and_its_trace(demo: Demo) -> None:
    assert demo.returncode == 0, demo.stderr
    prediction_id = demo.prediction_id
    predictions = (demo.home / "churn-data" / "predictions" / "predictions.csv").read_text()
    assert predictions.splitlines()[-1].startswith(f"{prediction_id},")
    tree = demo.stdout.split(f"Last prediction id: {prediction_id}", 1)[1]
    found = re.findall(r"\[(\d+)\] (\w+) ([0-9a-f]{16})", tree)
    assert [(int(level), name) for level, name, _ in found] == list(enumerate(STAGES))
    assert f"mltrace trace {prediction_id}" in demo.stdout
    assert f"export MLTRACE_HOME={demo.home}" in demo.stdout


def test_cli_traces_prediction_across_processes(demo: Demo) -> None:
    assert demo.returncode == 0, demo.stderr
    runs = _mltrace(demo.home, "trace", demo.prediction_id)
    assert [(run["level"], run["component_name"]) for run in runs] == list(enumerate(STAGES))
    by_name = {run["component_name"]: run for run in runs}
    predict, train, featurize = by_name["predict"], by_name["train"], by_name["featurize"]
    assert demo.prediction_id in predict["outputs"]
    assert all(run["status"] == "OK" for run in runs)
    # predict, train and featurize ran in three different processes: only pointers link them.
    assert sorted(predict["dependencies"]) == sorted([train["id"], featurize["id"]])
    assert train["dependencies"] == [featurize["id"]]
    assert featurize["dependencies"] == [by_name["clean"]["id"]]
    assert by_name["clean"]["dependencies"] == [by_name["ingest"]["id"]]
    assert by_name["ingest"]["dependencies"] == []
    # The model predict loaded is the very pickle train saved (same content hash).
    [saved] = [p for p in train["output_pointers"] if p["name"].endswith(".pkl")]
    [loaded] = [p for p in predict["input_pointers"] if p["name"].endswith(".pkl")]
    assert saved["pointer_type"] == loaded["pointer_type"] == "MODEL"
    assert saved["version"] and saved["version"] == loaded["version"]


def test_stages_ran_in_separate_processes(demo: Demo) -> None:
    assert demo.returncode == 0, demo.stderr
    rows = _mltrace(
        demo.home,
        "sql",
        "SELECT DISTINCT SpanName AS stage, ResourceAttributes['process.pid'] AS pid, "
        "ResourceAttributes['process.parent_pid'] AS parent FROM otel_traces"
        f" WHERE SpanAttributes['{semconv.COMPONENT_NAME}'] != ''",  # not the pipeline span
    )
    pids = {row["stage"]: row["pid"] for row in rows}
    assert sorted(pids) == sorted(STAGES) and len(rows) == len(STAGES)
    # One process per stage group, each a child of the demo process.
    assert pids["ingest"] == pids["clean"] == pids["featurize"]
    assert len({pids["featurize"], pids["train"], pids["predict"]}) == 3
    assert {row["parent"] for row in rows} == {str(demo.pid)}
    assert str(demo.pid) not in pids.values()


def test_failed_stage_reports_its_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_demo, "STAGE_GROUPS", (("ingest",), ("no-such-stage",)))
    assert _demo.run(str(tmp_path)) != 0
    captured = capsys.readouterr()
    assert "ingest: " in captured.out
    assert "stage no-such-stage failed" in captured.err
    assert "invalid choice: 'no-such-stage'" in captured.err
