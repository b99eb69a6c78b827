"""clickhouse-go v2 over HTTP (the Collector's ClickHouse exporter and Grafana's plugin use it)
against `mltrace serve`: Native batch inserts and queries with each compression it offers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from _serve import ServeProcess, start_serve

GO_CLIENT = Path(__file__).parent / "go_client"
BUILD_TIMEOUT = 900


@pytest.fixture(scope="module")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go test client, built from tests/go_client (modules from the Go proxy, cached)."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    binary = tmp_path_factory.mktemp("go_client") / "go_client"
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=GO_CLIENT, check=True,
                   timeout=BUILD_TIMEOUT, env={**os.environ, "GOFLAGS": "-mod=mod"})
    return binary


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = start_serve(tmp_path_factory.mktemp("serve_go"), otlp=False)
    yield process
    code, err = process.stop()
    assert code == 0, err


@pytest.mark.parametrize("compression", ["lz4", "zstd", "gzip", "none"])
def test_clickhouse_go_batch_insert_and_select(
    go_client: Path, server: ServeProcess, compression: str
) -> None:
    table = f"go_{compression}"
    proc = subprocess.run(
        [str(go_client), "-addr", f"127.0.0.1:{server.port}", "-compress", compression,
         "-table", table, "-rows", "2000"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["count"] == 2000 and seen["sum"] == sum(range(2000))
    assert (seen["name"], seen["attr"], seen["events"]) == ("component-1", "4", ["test.passed"])
    assert seen["timestamp"] == "2024-01-02T03:04:09.000000006Z"  # DateTime64(9) exact
    assert "Code: 60" in seen["error"] or compression in ("lz4", "zstd")
    assert "[HTTP 404]" in seen["error"]
    # what Go wrote, read back by another client
    client = clickhouse_connect.get_client(dsn=server.url)
    rows = client.query(f"SELECT count(), countIf(length(Events.Name) = 1) FROM {table}")
    assert rows.result_rows == [(2000, 1000)]
    client.close()
