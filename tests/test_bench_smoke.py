"""The benchmarks run end to end at tiny sizes, print their tables with the floor and
remove the stores they built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("bench_logging.py", ["--runs", "300", "--repeat", "1"],
         "floor for the decorator: bare SDK span"),
        ("bench_logging.py", ["--rss-runs", "300"], "RSS MiB after 300 runs"),
        ("bench_ingest.py", ["--runs", "400", "--stored", "0", "100"], "floor runs/s"),
        ("bench_trace.py", ["--sizes", "200", "--samples", "3", "--cli-samples", "1"],
         "floor: import chdb ms"),
        ("bench_review.py", ["--runs", "200", "--flagged", "5", "--fanouts", "2", "2",
                             "--samples", "1"], "floor s (read the result runs)"),
        ("bench_serve.py", ["--runs", "200", "--samples", "1"], "through mltrace serve ms"),
        ("bench_grafana.py", ["200"], "Python API s"),
        ("bench_otlp.py", ["--spans", "600", "--batch", "100"],
         "HTTP handler that only reads them (floor)"),
        ("bench_worker_flush.py", ["--runs", "100"], "floor: the SDK's BatchSpanProcessor"),
    ],
)
def test_benchmark_runs_small(tmp_path: Path, script: str, args: list[str], expected: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "MLTRACE_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert expected in proc.stdout
    assert "|---|" in proc.stdout
    assert not list(tmp_path.glob("mltrace-bench-*")), "the benchmark left its store behind"
