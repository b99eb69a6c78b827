"""No secret is ever printed (SPEC 6): failing CLI commands and pipelines run for real
against loopback servers that refuse, fail or echo; all their output is searched for the
passwords and tokens of the URLs they were given."""

from __future__ import annotations

import http.server
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import PROCESS_TIMEOUT, subprocess_env, write_script

from mltrace_otel.config import resolve
from mltrace_otel.secrets import redact

SECRETS = ("pa55-Secret1", "Secret2-param", "Secret3-token")


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with a ClickHouse-style error that echoes what it was sent."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        text = (f"Code: 516. DB::Exception: rejected {self.command} {self.path} "
                f"{dict(self.headers)} {body[:200]!r}. (AUTHENTICATION_FAILED)")
        payload = text.encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _urls(port: int) -> list[str]:
    return [
        f"http://default:p@ss-{SECRETS[0]}@127.0.0.1:{port}/default",
        f"http://default@127.0.0.1:{port}/default?password={SECRETS[1]}",
        f"http://127.0.0.1:{port}/default?access_token={SECRETS[2]}&user=default",
    ]


def _assert_clean(proc: subprocess.CompletedProcess[str], what: str) -> None:
    output = proc.stdout + proc.stderr
    for secret in SECRETS:
        assert secret not in output, f"{what} printed a secret:\n{output}"
    # the echo server returns the request's headers: Basic credentials are the password too
    assert not re.search(r"Basic [A-Za-z0-9+/=]{8,}", output), f"{what} printed:\n{output}"


PIPELINE = """
    import logging
    import sys

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    import mltrace_otel as mltrace
    from mltrace_otel.config import resolve

    print(repr(resolve()), flush=True)

    @mltrace.Component("leaky").run(input_vars=["source"], output_vars=["target"])
    def step():
        source, target = "in.csv", "out.csv"

    step()
    print("flushed", mltrace.flush(), flush=True)
"""


@pytest.mark.parametrize("server", ["echo", "closed"])
def test_failing_cli_commands_print_no_secret(
    tmp_path: Path, echo_port: int, server: str
) -> None:
    port = echo_port if server == "echo" else _closed_port()
    for url in _urls(port):
        for args, env in (
            (["recent", "--url", url], {}),
            (["sql", "SELECT 1", "--url", url], {}),
            (["init-db", "--check", "--url", url], {}),
            (["history", "train"],
             {"MLTRACE_BACKEND": "clickhouse", "MLTRACE_CLICKHOUSE_URL": url}),
        ):
            proc = subprocess.run(
                [sys.executable, "-m", "mltrace_otel.cli", *args],
                env=subprocess_env(tmp_path / "home", **env),
                capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
            )
            assert proc.returncode != 0, proc.stdout
            assert "127.0.0.1" in proc.stderr, proc.stderr  # the error still says where
            if args[0] == "recent" and url == _urls(port)[0]:  # and whether it answered
                said = "refused the connection" if server == "echo" else "cannot be reached"
                assert said in proc.stderr, proc.stderr
            _assert_clean(proc, f"mltrace {' '.join(args)}")


@pytest.mark.parametrize("backend", ["clickhouse", "otlp"])
def test_failing_pipelines_print_no_secret(tmp_path: Path, echo_port: int, backend: str) -> None:
    script = write_script(tmp_path, "pipeline.py", PIPELINE)
    for url in _urls(echo_port):
        env = {
            "MLTRACE_BACKEND": backend,
            "MLTRACE_CLICKHOUSE_URL": url,
            "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "OTEL_BSP_EXPORT_TIMEOUT": "3000",
        }
        proc = subprocess.run(
            [sys.executable, str(script)], env=subprocess_env(tmp_path / "home", **env),
            capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Settings(" in proc.stdout
        _assert_clean(proc, f"a pipeline on the {backend} backend")


def test_redact_keeps_where_and_hides_what() -> None:
    assert redact("http://user:p@ss@host:8123/db") == "http://user:***@host:8123/db"
    assert redact("x http://h/db?password=p&a=1 y") == "x http://h/db?password=***&a=1 y"
    assert redact("https://h/v1/traces?access_token=t") == "https://h/v1/traces?access_token=***"
    assert redact("http://host:8123/db?email=a@b.c") == "http://host:8123/db?email=a@b.c"
    assert "s3cret" not in repr(resolve(backend="clickhouse", url="http://u:s3cret@h/db"))
    holder = "in use by process 7 (python3 mltrace serve --port 81 --password s3cret-pw)"
    assert redact(holder) == "in use by process 7 (python3 mltrace serve --port 81 --password ***)"
    assert redact("mltrace serve --password=s3cret-pw") == "mltrace serve --password=***"
    echoed = "{'Authorization': 'Basic ZGVmYXVsdDpzM2NyZXQ=', 'Host': '127.0.0.1'}"
    assert redact(echoed) == "{'Authorization': 'Basic ***', 'Host': '127.0.0.1'}"
    assert redact("X-ClickHouse-Key: s3cret") == "X-ClickHouse-Key: ***"
    assert redact("""--password "s3 cret" --token='t0k' --readonly-password=pw""") == (
        "--password *** --token=*** --readonly-password=***")
    ordinary = "--design big --author alice --passes 3 --compass north --monkey x"
    assert redact(ordinary) == ordinary  # options that merely contain sig, auth, pass, key
