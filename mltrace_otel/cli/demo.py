"""``mltrace demo``: run the churn example in separate processes, as one pipeline trace, then
trace a prediction."""

from __future__ import annotations

import csv
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import mltrace_otel as mltrace
from mltrace_otel.cli import render

STAGE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ingest", "clean", "featurize"),
    ("train",),
    ("predict",),
)
"""Stages run together in one process; each group is a process of its own."""

PIPELINE_NAME = "churn-demo"
"""The demo's pipeline root span: every stage process's runs are in its trace."""

_STDERR_TAIL_LINES = 20


def examples_dir() -> Path:
    """``examples/`` of a source checkout, or the copy packaged into the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_examples", package.parent / "examples"):
        if (candidate / "churn" / "pipeline.py").is_file():
            return candidate
    raise RuntimeError("mltrace demo: the examples/ folder is missing from this installation")


def run(home: str | None) -> int:
    """Run the pipeline on a fresh store under ``home`` (default: a new temp folder) and
    print the last prediction id and its trace. Returns the exit code."""
    home_path = Path(home).expanduser().absolute() if home else Path(
        tempfile.mkdtemp(prefix="mltrace-demo-")
    )
    try:
        home_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RuntimeError(f"mltrace demo: cannot create {home_path}: {error.strerror}") from None
    data_dir = home_path / "churn-data"
    pipeline = examples_dir() / "churn" / "pipeline.py"
    print(f"MLTRACE_HOME={home_path}")
    mltrace.configure(backend="local", home=home_path)
    # One pipeline trace: the stage processes inherit its TRACEPARENT.
    with mltrace.pipeline(PIPELINE_NAME) as trace:
        for stages in STAGE_GROUPS:
            code = _run_stages(pipeline, stages, data_dir, home_path)
            if code != 0:
                trace.fail(f"stage {' '.join(stages)} exited with code {code}")
                return code
    print(f"\nPipeline trace id: {trace.trace_id}")
    prediction_id = _last_prediction_id(data_dir / "predictions" / "predictions.csv")
    levels = mltrace.trace(prediction_id)
    print(f"\nLast prediction id: {prediction_id}\n")
    render.trace_tree(prediction_id, levels)
    print(
        f"\nTrace it yourself:\n  export MLTRACE_HOME={shlex.quote(str(home_path))}\n"
        f"  mltrace trace {prediction_id}"
    )
    return 0


def _run_stages(pipeline: Path, stages: tuple[str, ...], data_dir: Path, home: Path) -> int:
    """Run ``stages`` in one new process, logging to ``home``; print its output."""
    print(f"\n$ python {pipeline} {' '.join(stages)} --data-dir {data_dir}")
    env = {
        **os.environ,
        "MLTRACE_HOME": str(home),
        "MLTRACE_BACKEND": "local",
        # OpenTelemetry's process detector records process.pid on every span of the stage.
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "process",
    }
    result = subprocess.run(
        [sys.executable, str(pipeline), *stages, "--data-dir", str(data_dir)],
        env=env,
        cwd=pipeline.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout, end="")
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-_STDERR_TAIL_LINES:])
        print(f"stage {' '.join(stages)} failed (exit {result.returncode}):\n{tail}",
              file=sys.stderr)
    return result.returncode


def _last_prediction_id(predictions_csv: Path) -> str:
    with open(predictions_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise RuntimeError(f"mltrace demo: {predictions_csv} holds no predictions")
    return rows[-1]["prediction_id"]
