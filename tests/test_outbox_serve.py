"""No run lost when ``mltrace serve`` (the ``clickhouse`` backend's server, or the ``otlp``
backend's endpoint) stops mid-pipeline and comes back on the same ports: every run is counted
through the query API on the served embedded store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _serve import free_port
from test_outbox import SLACK, Driver, _warnings

import mltrace_otel as mltrace
from mltrace_otel.sdk.outbox import Outbox
from mltrace_otel.server import discovery

TIMEOUT = 6  # seconds: the server fsyncs each batch, which is slow on a busy machine


class Serve:
    """``mltrace serve`` on fixed ports, so the pipeline finds it again after a restart."""

    def __init__(self, home: Path) -> None:
        self.home, self.port, self.otlp_port = home, free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.otlp_url = f"http://127.0.0.1:{self.otlp_port}"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items()
               if key not in ("MLTRACE_BACKEND", "MLTRACE_CLICKHOUSE_URL")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(self.home),
             "--port", str(self.port), "--otlp-port", str(self.otlp_port)],
            env={**env, "MLTRACE_HOME": str(self.home)},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while not discovery.ping(self.url, timeout=0.5):
            assert self._process.poll() is None, self._process.communicate()[1]
            assert time.monotonic() < deadline, "mltrace serve did not answer /ping"
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            _, err = self._process.communicate(timeout=60)
            assert self._process.returncode == 0, err
            self._process = None


@pytest.mark.parametrize("backend", ["clickhouse", "otlp"])
def test_serve_stopped_and_restarted_mid_pipeline(
    home: Path, tmp_path: Path, backend: str
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    server = Serve(served)
    server.start()
    driver = Driver(
        tmp_path, home, timeout=TIMEOUT, MLTRACE_BACKEND=backend,
        MLTRACE_CLICKHOUSE_URL=server.url,
        OTEL_EXPORTER_OTLP_ENDPOINT=server.otlp_url,
    )
    try:
        assert driver.send("log 20") == "logged"
        assert driver.flush()[0] is True
        server.stop()
        assert driver.send("log 30") == "logged"
        delivered, seconds = driver.flush()
        assert delivered is False and seconds < TIMEOUT + SLACK
        assert Outbox(home / "outbox").pending_spans() == 30
        server.start()
        assert driver.flush()[0] is True
        assert driver.send("log 10") == "logged"
        _, stderr = driver.quit()
        assert len(_warnings(stderr)) == 1, stderr
        assert Outbox(home / "outbox").files() == []
    finally:
        driver.process.kill()
        server.stop()
    mltrace.configure(backend="local", home=served)  # the home fixture parks it afterwards
    runs = mltrace.get_history("stage", limit=None)
    assert len({run.id for run in runs}) == len(runs) == 60
    assert len({run.trace_id for run in runs}) == 1  # the pipeline's trace, across the outage
