"""``mltrace serve`` as a real subprocess for tests: free ports on 127.0.0.1, a home folder,
ready once ``/ping`` answers, stopped with SIGTERM.

    from _serve import serve_process

    with serve_process(home) as server:
        server.url        # http://127.0.0.1:<port> (ClickHouse HTTP interface)
        server.otlp_url   # http://127.0.0.1:<port> (OTLP/HTTP), when enabled
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _ports import free_port

from mltrace_otel.server import discovery

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


@dataclass
class ServeProcess:
    """A running ``mltrace serve``."""

    process: subprocess.Popen[str]
    home: Path
    port: int
    otlp_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.otlp_port}"

    def stop(self, timeout: float = STOP_TIMEOUT) -> tuple[int, str]:
        """SIGTERM and wait; the exit code and what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
            raise AssertionError(f"mltrace serve did not stop on SIGTERM:\n{err}") from None
        return self.process.returncode, err


def start_serve(home: Path, *args: str, otlp: bool = True, **env: str) -> ServeProcess:
    """Start ``mltrace serve --home HOME`` on free ports and wait until ``/ping`` answers."""
    port = free_port()
    otlp_port = free_port() if otlp else 0
    environment = dict(os.environ)
    for name in ("MLTRACE_BACKEND", "MLTRACE_CLICKHOUSE_URL", "MLTRACE_SERVE_PASSWORD",
                 "MLTRACE_SERVE_READONLY_PASSWORD"):
        environment.pop(name, None)
    environment.update(MLTRACE_HOME=str(home), PYTHONUNBUFFERED="1", **env)
    process = subprocess.Popen(
        [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(home),
         "--port", str(port), "--otlp-port", str(otlp_port), *args],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    server = ServeProcess(process, home, port, otlp_port)
    deadline = time.monotonic() + START_TIMEOUT
    while not discovery.ping(server.url, timeout=0.5):
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"mltrace serve exited {process.returncode}:\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("mltrace serve did not answer /ping in time")
        time.sleep(0.05)
    while discovery.read(home) is None and process.poll() is None:  # written right after
        time.sleep(0.02)
    return server


@contextlib.contextmanager
def serve_process(home: Path, *args: str, otlp: bool = True, **env: str) -> Iterator[ServeProcess]:
    """``start_serve`` for the duration of a ``with`` block; SIGTERM at the end."""
    server = start_serve(home, *args, otlp=otlp, **env)
    try:
        yield server
    finally:
        server.stop()
