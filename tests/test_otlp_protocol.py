"""The ``otlp`` backend honours ``OTEL_EXPORTER_OTLP_PROTOCOL`` (SPEC 3.1): ``grpc`` sends
over gRPC (a port with no gRPC server behind it keeps the runs in the outbox, one warning),
a protocol the Python SDK cannot send is a clear configuration error, never a broken run.
Delivery over gRPC through the real Collector is in ``test_collector_pipeline.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _otlp_receiver import free_port
from _support import PROCESS_TIMEOUT, subprocess_env, write_script

from mltrace_otel.sdk.outbox import Outbox

PIPELINE = """
    import sys

    import mltrace_otel as mltrace
    from mltrace_otel.config import ConfigurationError

    stage = mltrace.Component("stage")

    @stage.run(input_vars=["source"], output_vars=["target"])
    def step(i):
        source = f"in-{i}.csv"
        target = f"out-{i}.csv"
        return i * 2

    print("results", *[step(i) for i in range(3)])
    try:
        print("flushed", mltrace.flush())
    except ConfigurationError as error:
        print("refused", error)
"""


def run_pipeline(tmp_path: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = write_script(tmp_path, "pipeline.py", PIPELINE)
    return subprocess.run(
        [sys.executable, str(script)],
        env=subprocess_env(home, MLTRACE_BACKEND="otlp", OTEL_EXPORTER_OTLP_TIMEOUT="2", **env),
        capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
    )


def test_grpc_to_a_port_without_a_server_keeps_the_runs_in_the_outbox(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = run_pipeline(tmp_path, home, OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["results 0 2 4", "flushed False"]
    assert Outbox(home / "outbox").pending_spans() == 3
    warnings = [line for line in done.stderr.splitlines() if line.startswith("mltrace:")]
    assert len(warnings) == 1, done.stderr
    assert "the otlp backend (gRPC, http://127.0.0.1:" in warnings[0]


def test_the_traces_protocol_variable_wins_over_the_general_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = run_pipeline(tmp_path, home, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
                        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc",
                        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 0, done.stderr
    assert "(gRPC, " in done.stderr


def test_an_unsupported_protocol_is_one_clear_warning_and_a_flush_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = run_pipeline(tmp_path, home, OTEL_EXPORTER_OTLP_PROTOCOL="http/json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "results 0 2 4"  # the pipeline's own results, untouched
    assert lines[1] == ("refused OTEL_EXPORTER_OTLP_PROTOCOL='http/json' is not an OTLP "
                        "protocol mltrace can send: use http/protobuf or grpc")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("mltrace:")]
    assert len(warnings) == 1, done.stderr  # not one per run
    assert "http/json" in warnings[0]
