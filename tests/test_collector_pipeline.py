"""End to end through the real Collector: pipeline processes (``otlp`` backend) → the built
Collector → ClickHouse exporter over HTTP → ``mltrace serve`` → the CLI; the same rows as the
other ingest paths; no run lost while the store is down."""

from __future__ import annotations

import difflib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _binaries import BUILD_TIMEOUT
from _churn import SPANS, Normalizer, cli, cli_json, prediction_ids, run_pipeline
from _otlp_support import post, store_rows
from _services import clickhouse_json, collector, free_port, serve, wait_until
from _support import PROCESS_TIMEOUT, subprocess_env
from test_otlp_golden import PIPELINE as GOLDEN_PIPELINE

# A first test may build the binaries (see _binaries.py): allow a cold build.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 600)

DATABASE = "otelcol"
"""The database the Collector's exporter creates (create_schema) in the served store."""


def otlp_env(folder: Path, endpoint: str) -> dict[str, str]:
    """A pipeline process's environment: the ``otlp`` backend, sending to ``endpoint``."""
    return subprocess_env(
        folder / "outbox_home", MLTRACE_BACKEND="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint
    )


def span_count(url: str, database: str = "default") -> int:
    rows = clickhouse_json(url, "SELECT count() AS n FROM otel_traces", database)
    return int(rows[0]["n"])


def answers(env: dict[str, str], data_dir: Path, *where: str) -> dict[str, object]:
    """trace, review (after flagging the last prediction) and stale, normalized."""
    runs = cli_json(env, "recent", "--limit", "100", *where)
    normalize = Normalizer(data_dir, runs)
    last = prediction_ids(data_dir)[-1]
    cli(env, "flag", last, *where)
    return {
        "runs": normalize(sorted(runs, key=lambda run: run["start_timestamp"])),
        "trace": normalize(cli_json(env, "trace", last, *where)),
        "review": normalize(cli_json(env, "review", *where)),
        "stale": normalize(cli_json(env, "stale", *where)),
    }


def differences(found: dict, expected: dict) -> str:
    """A unified diff of two answer sets, as indented JSON."""
    lines = [json.dumps(answer, indent=1, sort_keys=True).splitlines() for answer in
             (expected, found)]
    return "\n".join(difflib.unified_diff(*lines, "embedded", "collector", lineterm=""))


def test_pipeline_through_the_collector_answers_like_the_embedded_store(tmp_path: Path) -> None:
    embedded_home = tmp_path / "embedded"
    _, embedded_data = run_pipeline(tmp_path / "local_run", subprocess_env(embedded_home))
    expected = answers(subprocess_env(embedded_home), embedded_data)

    with serve(tmp_path / "served", tmp_path / "logs").start() as server:
        otelcol = collector(tmp_path / "collector", server.url, f"127.0.0.1:{free_port()}",
                            database=DATABASE)
        with otelcol.start():
            # The exporter created otel_traces and its trace-id objects (create_schema);
            # init-db adds mltrace's tables and materialized views on top of them.
            where = ("--url", f"{server.url}/{DATABASE}")
            cli(subprocess_env(tmp_path / "cli_home"), "init-db", *where)
            _, data_dir = run_pipeline(
                tmp_path / "otlp_run", otlp_env(tmp_path, otelcol.otlp_http_endpoint)
            )
            wait_until(lambda: span_count(server.url, DATABASE) == SPANS, 60,
                       f"{SPANS} spans through the Collector")
        found = answers(subprocess_env(tmp_path / "cli_home"), data_dir, *where)
        for command in (("components",), ("tags",), ("history", "train")):
            assert cli_json(subprocess_env(tmp_path / "cli_home"), *command, *where)

    assert len(expected["runs"]) == SPANS - 1
    assert {level["component_name"] for level in expected["trace"]} == {
        "predict", "train", "featurize", "clean", "ingest",
    }
    assert expected["stale"], "the pipeline makes the load run stale"
    assert expected["review"]["suspects"]
    assert found == expected, differences(found, expected)


def test_collector_serve_otlp_and_spool_give_the_same_rows(tmp_path: Path) -> None:
    """The same spans written by the Collector's exporter, by serve's OTLP endpoint and by the
    SDK's spool are the same otel_traces rows."""
    spool_home, served_home = tmp_path / "spool", tmp_path / "served"
    script = tmp_path / "pipeline.py"
    script.write_text(GOLDEN_PIPELINE)
    request = tmp_path / "request.pb"
    with serve(served_home, tmp_path / "logs").start() as server:
        otelcol = collector(tmp_path / "collector", server.url, f"127.0.0.1:{free_port()}",
                            database=DATABASE)
        with otelcol.start():
            proc = subprocess.run(
                [sys.executable, str(script), str(spool_home), str(request),
                 f"{otelcol.otlp_http_endpoint}/v1/traces"],
                env=subprocess_env(spool_home), capture_output=True, text=True,
                timeout=PROCESS_TIMEOUT,
            )
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.split() == ["7", "SUCCESS"]
            status, _, body = post(f"http://127.0.0.1:{server.otlp_port}/v1/traces",
                                   request.read_bytes(), "application/x-protobuf", None)
            assert status == 200, body
            wait_until(lambda: span_count(server.url, DATABASE) == 7, 60, "7 Collector spans")
    order = "ORDER BY SpanId"
    through_collector = store_rows(served_home, f"SELECT * FROM {DATABASE}.otel_traces {order}")
    through_serve_otlp = store_rows(served_home, f"SELECT * FROM default.otel_traces {order}")
    through_spool = store_rows(spool_home, f"SELECT * FROM otel_traces {order}")
    assert len(through_spool) == 7
    assert through_collector == through_spool
    assert through_serve_otlp == through_spool


WRITER = r'''
import sys

import mltrace_otel as mltrace

batch, runs = sys.argv[1], int(sys.argv[2])
step = mltrace.Component("outage-step")


@step.run(input_vars=["source"], output_vars=["target"])
def move(index):
    source = f"{batch}-in-{index}"
    target = f"{batch}-out-{index}"


for index in range(runs):
    move(index)
if not mltrace.flush():
    sys.exit("runs were not delivered")
'''


def test_a_pipeline_set_to_grpc_delivers_through_the_collectors_grpc_receiver(
    tmp_path: Path,
) -> None:
    """OTEL_EXPORTER_OTLP_PROTOCOL=grpc: the runs go to the Collector's OTLP gRPC port (an
    OTLP/HTTP request to it would fail, and the writer exits non-zero when flush() does)."""
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER)
    with serve(tmp_path / "served", tmp_path / "logs").start() as server:
        otelcol = collector(tmp_path / "collector", server.url, f"127.0.0.1:{free_port()}")
        with otelcol.start():
            env = otlp_env(tmp_path, f"http://127.0.0.1:{otelcol.otlp_grpc_port}")
            proc = subprocess.run(
                [sys.executable, str(writer), "grpc", "12"],
                env={**env, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
                capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
            )
            assert proc.returncode == 0, proc.stderr
            wait_until(lambda: span_count(server.url) == 12, 60, "12 runs over gRPC")
        runs = cli_json(subprocess_env(tmp_path / "cli_home"), "history", "outage-step",
                        "--limit", "100", "--url", server.url)
    assert sorted(output for run in runs for output in run["outputs"]) == sorted(
        f"grpc-out-{index}" for index in range(12)
    )


def test_runs_logged_while_the_store_is_down_arrive_after_it_restarts(tmp_path: Path) -> None:
    """The store stops mid-pipeline; the Collector keeps the runs in its persistent queue (even
    across its own crash) and delivers them once the store is back: every run is counted."""
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER)
    home, logs, port, otlp_port = tmp_path / "served", tmp_path / "logs", free_port(), free_port()
    queue_folder = tmp_path / "collector"

    def log_runs(batch: str, runs: int, endpoint: str) -> None:
        proc = subprocess.run(
            [sys.executable, str(writer), batch, str(runs)], env=otlp_env(tmp_path, endpoint),
            capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr

    server = serve(home, logs, port, otlp_port).start()
    try:
        otelcol = collector(queue_folder, server.url, f"127.0.0.1:{free_port()}")
        otelcol.start()
        try:
            log_runs("before", 20, otelcol.otlp_http_endpoint)
            wait_until(lambda: span_count(server.url) == 20, 60, "the runs before the outage")
            server.stop()
            log_runs("during", 30, otelcol.otlp_http_endpoint)
            log_runs("during2", 30, otelcol.otlp_http_endpoint)
        finally:
            otelcol.stop(signal.SIGKILL)  # the Collector dies too, with the runs in its queue
        assert any((queue_folder / "queue").iterdir())
        server = serve(home, logs, port, otlp_port).start()
        restarted = collector(queue_folder, server.url, f"127.0.0.1:{free_port()}")
        restarted.log = queue_folder / "collector-restarted.log"
        with restarted.start():
            wait_until(lambda: span_count(server.url) >= 80, 90, "the queued runs")
            distinct = clickhouse_json(
                server.url, "SELECT uniqExact(SpanId) AS n FROM otel_traces", "default")
            assert int(distinct[0]["n"]) == 80
        cli_home = subprocess_env(tmp_path / "cli_home")
        where = ("--url", server.url)
        runs = cli_json(cli_home, "history", "outage-step", "--limit", "1000", *where)
        outputs = {output for run in runs for output in run["outputs"]}
        for batch, count in (("before", 20), ("during", 30), ("during2", 30)):
            assert {f"{batch}-out-{index}" for index in range(count)} <= outputs, batch
        assert len({run["id"] for run in runs}) == 80
    finally:
        server.stop()
