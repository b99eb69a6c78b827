"""Real server processes for the Collector tests: the built Collector, Jaeger and
``mltrace serve``, each on free loopback ports, with its log in a file for failure messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _binaries import COLLECTOR_CONFIG, JAEGER_CONFIG, collector_binary, jaeger_binary
from _ports import free_port

START_TIMEOUT = 60.0


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Status and body of a GET (an HTTP error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def clickhouse_json(url: str, sql: str, database: str = "default", **params: str) -> list[dict]:
    """Rows of ``sql`` (``{name:Type}`` parameters from ``params``) over ClickHouse's HTTP
    interface at ``url``, read as JSON."""
    fields = {"database": database, "default_format": "JSON"}
    fields.update({f"param_{name}": value for name, value in params.items()})
    request = urllib.request.Request(
        f"{url}/?{urllib.parse.urlencode(fields)}", data=sql.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["data"]
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{sql}\n-> HTTP {error.code}: {error.read().decode()}") from None


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def responds(url: str) -> bool:
    """True when ``url`` answers a GET with 200."""
    try:
        return http_get(url, timeout=2.0)[0] == 200
    except OSError:
        return False


@dataclass
class Service:
    """One running server process with its log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Service:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_until(self._ready, START_TIMEOUT, f"{self.name} at {self.ready_url}")
        except AssertionError as error:
            self.stop()
            raise AssertionError(f"{error}\n{self.log_tail()}") from None
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}\n{self.log_tail()}")
        return responds(self.ready_url)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 20 s) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} log ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Collector(Service):
    """The built Collector running ``collector/otel-collector-config.yaml``."""

    otlp_http_port: int = 0
    otlp_grpc_port: int = 0

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.otlp_http_port}"


def collector(
    folder: Path,
    clickhouse_endpoint: str,
    jaeger_otlp_endpoint: str,
    *,
    database: str = "default",
    compress: str = "gzip",
) -> Collector:
    """A Collector (not started) exporting to ``clickhouse_endpoint`` and Jaeger, with its
    persistent queue in ``folder/queue`` (kept across restarts of the same folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    grpc, http, health, metrics = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "OTELCOL_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{grpc}",
        "OTELCOL_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{http}",
        "OTELCOL_HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{health}",
        "OTELCOL_METRICS_HOST": "127.0.0.1",
        "OTELCOL_METRICS_PORT": str(metrics),
        "OTELCOL_QUEUE_DIRECTORY": str(folder / "queue"),
        "OTELCOL_CLICKHOUSE_ENDPOINT": clickhouse_endpoint,
        "OTELCOL_CLICKHOUSE_DATABASE": database,
        "OTELCOL_CLICKHOUSE_COMPRESS": compress,
        "OTELCOL_JAEGER_OTLP_ENDPOINT": jaeger_otlp_endpoint,
    }
    return Collector(
        name="collector",
        command=[str(collector_binary()), f"--config={COLLECTOR_CONFIG}"],
        env=env,
        log=folder / "collector.log",
        ready_url=f"http://127.0.0.1:{health}/",
        otlp_http_port=http,
        otlp_grpc_port=grpc,
    )


@dataclass
class Jaeger(Service):
    """The built Jaeger v2 with in-memory storage."""

    otlp_grpc_port: int = 0
    query_port: int = 0

    @property
    def otlp_grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.otlp_grpc_port}"

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.query_port}"


def jaeger(folder: Path) -> Jaeger:
    """A Jaeger (not started) running ``jaeger/config.yaml`` on free ports."""
    folder.mkdir(parents=True, exist_ok=True)
    otlp, query, query_grpc, health = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "JAEGER_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{otlp}",
        "JAEGER_QUERY_HTTP_ENDPOINT": f"127.0.0.1:{query}",
        "JAEGER_QUERY_GRPC_ENDPOINT": f"127.0.0.1:{query_grpc}",
        "JAEGER_HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{health}",
    }
    return Jaeger(
        name="jaeger",
        command=[str(jaeger_binary()), f"--config={JAEGER_CONFIG}"],
        env=env,
        log=folder / "jaeger.log",
        ready_url=f"http://127.0.0.1:{query}/api/services",
        otlp_grpc_port=otlp,
        query_port=query,
    )


@dataclass
class Serve(Service):
    """``mltrace serve``: the embedded store over ClickHouse's HTTP interface and OTLP/HTTP."""

    port: int = 0
    otlp_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve(home: Path, log_folder: Path, port: int = 0, otlp_port: int = 0) -> Serve:
    """``mltrace serve`` (not started) on ``home``; the same ports can be given to restart it."""
    log_folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    otlp_port = otlp_port or free_port()
    env = {**os.environ, "MLTRACE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    for name in ("MLTRACE_BACKEND", "MLTRACE_CLICKHOUSE_URL"):
        env.pop(name, None)
    return Serve(
        name="mltrace serve",
        command=[
            sys.executable, "-m", "mltrace_otel.cli", "serve",
            "--host", "127.0.0.1", "--port", str(port), "--otlp-port", str(otlp_port),
        ],
        env=env,
        log=log_folder / "serve.log",
        ready_url=f"http://127.0.0.1:{port}/ping",
        port=port,
        otlp_port=otlp_port,
    )
