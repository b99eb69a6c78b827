"""The ``otlp`` backend honours ``OTEL_EXPORTER_OTLP_PROTOCOL`` (SPEC 3.1): ``grpc`` sends
over gRPC (a port with no gRPC server behind it keeps the runs in the outbox, one warning);
a protocol the Python SDK cannot send keeps them there too, with the reason in the warning.
Delivery over gRPC through the real Collector is in ``test_collector_pipeline.py``."""

from __future__ import annotations

from pathlib import Path

from _otlp_receiver import Receiver, free_port
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


def test_an_unsupported_protocol_keeps_the_runs_for_a_process_that_can_send_them(
    home: Path, tmp_path: Path
) -> None:
    """http/json (which the Python SDK cannot send) is an outage with its reason: one
    warning, flush() is False, the runs wait in the outbox; a process with a protocol it
    can send delivers them."""
    driver = Driver(tmp_path, home, MLTRACE_BACKEND="otlp", OTEL_EXPORTER_OTLP_PROTOCOL="http/json")
    assert driver.send("log 3") == "logged"
    assert driver.flush()[0] is False
    (warning,) = _mltrace_lines(driver.quit()[1])
    assert ("OTEL_EXPORTER_OTLP_PROTOCOL='http/json' is not an OTLP protocol mltrace can send: "
            "use http/protobuf or grpc") in warning
    assert Outbox(home / "outbox").pending_spans() == 4  # three runs and their pipeline
    receiver = Receiver(tmp_path).start()
    try:
        fixed = Driver(tmp_path, home, MLTRACE_BACKEND="otlp",
                       OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
        assert fixed.flush()[0] is True
        fixed.quit()
        assert [span["component"] for span in receiver.spans()].count("stage") == 3
    finally:
        receiver.kill()
