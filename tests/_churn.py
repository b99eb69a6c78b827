"""The example churn pipeline (``examples/churn``) as one pipeline trace in three stage
processes, plus runs that make one stale, and its CLI answers made comparable across stores."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _binaries import ROOT
from _support import CLI_TIMEOUT, PROCESS_TIMEOUT

PIPELINE = ROOT / "examples" / "churn" / "pipeline.py"
STAGES = ("ingest", "clean", "featurize", "train", "predict")
EXTRA_RUNS = ("extract", "extract", "load")
CUSTOMERS = "150"

DRIVER = r'''
import subprocess
import sys

import mltrace_otel as mltrace

pipeline_py, data_dir, customers = sys.argv[1:4]
extract = mltrace.Component("extract", owner="ops", tags=["export"])
load = mltrace.Component("load", owner="ops", tags=["export"])


@extract.run(input_vars=["source"], output_vars=["table"])
def pull(source):
    table = f"{data_dir}/export/{source}.parquet"


@load.run(input_vars=["table"], output_vars=["report"])
def publish(table):
    report = table + ".report"


with mltrace.pipeline("churn") as execution:
    trace_id = execution.trace_id
    for group in (("ingest", "clean", "featurize"), ("train",), ("predict",)):
        subprocess.run(
            [sys.executable, pipeline_py, *group, "--data-dir", data_dir,
             "--customers", customers],
            check=True, stdout=subprocess.DEVNULL,
        )
    # A newer extract run exists when load reads the older one's output: load is stale.
    pull("a")
    pull("b")
    publish(f"{data_dir}/export/a.parquet")
if not mltrace.flush():
    sys.exit("runs were not delivered")
print(trace_id)
'''
"""One pipeline trace: three stage processes of the churn example, then three runs here."""

SPANS = 1 + len(STAGES) + len(EXTRA_RUNS)
"""Spans of one execution: the pipeline root, the churn stages and the extra runs."""


def run_pipeline(folder: Path, env: dict[str, str]) -> tuple[str, Path]:
    """Run the driver with ``env`` (which selects the backend); returns the pipeline's trace id
    and the data folder."""
    folder.mkdir(parents=True, exist_ok=True)
    driver = folder / "driver.py"
    driver.write_text(DRIVER)
    data_dir = folder / "data"
    proc = subprocess.run(
        [sys.executable, str(driver), str(PIPELINE), str(data_dir), CUSTOMERS],
        env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
    )
    assert proc.returncode == 0, f"pipeline failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.split()[-1], data_dir


def prediction_ids(data_dir: Path) -> list[str]:
    with (data_dir / "predictions" / "predictions.csv").open(newline="") as handle:
        return [row[0] for row in csv.reader(handle)][1:]


def cli_json(env: dict[str, str], *args: str) -> Any:
    """``mltrace ARGS --json`` as a subprocess, parsed."""
    proc = cli(env, *args, "--json")
    return json.loads(proc.stdout)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", *args],
        env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    assert proc.returncode == 0, f"mltrace {' '.join(args)}: {proc.stderr}"
    return proc


VOLATILE = {"start_timestamp", "end_timestamp", "trace_id", "git_hash"}
"""Keys whose values differ between two executions of the same pipeline (git_hash: the
checkout may move on between them)."""


class Normalizer:
    """Rewrites one execution's answers so that two executions compare equal: the data folder,
    run ids (as component and ordinal) and prediction ids (by position) become labels."""

    def __init__(self, data_dir: Path, runs: list[dict[str, Any]]) -> None:
        self.labels: dict[str, str] = {}
        seen: dict[str, int] = {}
        for run in sorted(runs, key=lambda run: run["start_timestamp"]):
            ordinal = seen[run["component_name"]] = seen.get(run["component_name"], 0) + 1
            self.labels[run["id"]] = f"<{run['component_name']}#{ordinal}>"
        for position, prediction in enumerate(prediction_ids(data_dir)):
            self.labels[prediction] = f"<prediction{position}>"
        self.data_dir = str(data_dir)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items() if key not in VOLATILE}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            text = self.labels.get(value, value).replace(self.data_dir, "<data>")
            for run_id, label in self.labels.items():
                text = text.replace(run_id, label)
            return text
        return value
