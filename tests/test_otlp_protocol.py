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
from test_outbox import Driver

from mltrace_otel.sdk.outbox import Outbox


def _mltrace_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mltrace:")]


def test_grpc_to_a_port_without_a_server_keeps_the_runs_in_the_outbox(
    home: Path, tmp_path: Path
) -> None:
    driver = Driver(tmp_path, home, MLTRACE_BACKEND="otlp", OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
                    OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert driver.send("log 3") == "logged"
    delivered, _ = driver.flush()
    _, stderr = driver.quit()
    assert not delivered
    assert Outbox(home / "outbox").pending_spans() == 4  # three runs and their pipeline
    (warning,) = _mltrace_lines(stderr)
    assert "the otlp backend (gRPC, http://127.0.0.1:" in warning


def test_the_traces_protocol_variable_wins_over_the_general_one(
    home: Path, tmp_path: Path
) -> None:
    driver = Driver(tmp_path, home, MLTRACE_BACKEND="otlp",
                    OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
                    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc",
                    OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert driver.send("log 1") == "logged"
    assert driver.flush()[0] is False
    assert "(gRPC, " in driver.quit()[1]


UNSUPPORTED = """
    import mltrace_otel as mltrace
    from mltrace_otel.config import ConfigurationError

    @mltrace.register("scale", input_vars=["source"], output_vars=["target"])
    def scale(value):
        source, target = "in.csv", "out.csv"
        return value * 2

    print("results", scale(1), scale(2), scale(3))
    try:
        mltrace.flush()
    except ConfigurationError as error:
        print("refused", error)
"""


def test_an_unsupported_protocol_is_one_clear_warning_and_a_flush_error(
    home: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, str(write_script(tmp_path, "unsupported.py", UNSUPPORTED))],
        env=subprocess_env(home, MLTRACE_BACKEND="otlp", OTEL_EXPORTER_OTLP_PROTOCOL="http/json"),
        capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "results 2 4 6",  # the pipeline's own results, untouched
        "refused OTEL_EXPORTER_OTLP_PROTOCOL='http/json' is not an OTLP protocol mltrace can "
        "send: use http/protobuf or grpc",
    ]
    (warning,) = _mltrace_lines(done.stderr)  # one, not one per run
    assert "http/json" in warning
