"""End to end over OTLP: three pipeline processes with ``MLTRACE_BACKEND=otlp`` and
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at ``mltrace serve``'s OTLP port log one pipeline
trace; ``mltrace trace`` through the server answers the lineage."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from _serve import serve_process
from _support import CLI_TIMEOUT, run_script, subprocess_env, write_script

from mltrace_otel import semconv

STAGE = r'''
import sys

import mltrace_otel as mltrace

stage, source, target = sys.argv[1:4]
component = mltrace.Component(stage, owner="e2e")


@component.run(input_vars=["source"], output_vars=["target"])
def step(source, target):
    return target


step(source, target)
print("flushed", mltrace.flush())
'''

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_three_processes_over_otlp_then_mltrace_trace_through_serve(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = write_script(tmp_path, "stage.py", STAGE)
    with serve_process(home) as server:
        otlp = {
            "MLTRACE_BACKEND": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": server.otlp_url,
            "TRACEPARENT": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
        }
        for stage, source, target in (
            ("ingest", "s3://bucket/raw.csv", "raw.parquet"),
            ("featurize", "raw.parquet", "features.parquet"),
            ("train", "features.parquet", "model.pkl"),
        ):
            proc = run_script(script, home, stage, source, target, **otlp)
            assert proc.stdout.split() == ["flushed", "True"], proc.stderr

        trace = mltrace_cli(home, "trace", "model.pkl", "--json")
        assert trace.returncode == 0, trace.stderr
        levels = [(run["level"], run["component_name"], run["trace_id"], run["service_name"])
                  for run in json.loads(trace.stdout)]
        assert levels == [
            (0, "train", TRACE_ID, "mltrace"),
            (1, "featurize", TRACE_ID, "mltrace"),
            (2, "ingest", TRACE_ID, "mltrace"),
        ]

        # The rows came over OTLP: the receiver's spool files were ingested by the server.
        rows = mltrace_cli(
            home, "sql", f"SELECT count() FROM otel_traces WHERE ScopeName = '{semconv.SCOPE_NAME}'"
            f" AND SpanAttributes['{semconv.COMPONENT_OWNER}'] = 'e2e'",
        )
        assert rows.returncode == 0, rows.stderr
        assert "3" in rows.stdout.split()
    code, err = server.stop()
    assert code == 0, err


def mltrace_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``mltrace ARGS`` in a subprocess; retried for ~5 s until the runs are ingested."""
    deadline = time.monotonic() + 5
    while True:
        proc = subprocess.run(
            [sys.executable, "-m", "mltrace_otel.cli", *args], env=subprocess_env(home),
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
        )
        if proc.returncode == 0 or time.monotonic() > deadline:
            return proc
        time.sleep(0.2)
