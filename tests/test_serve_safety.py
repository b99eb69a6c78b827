"""`mltrace serve` is safe by default: users and passwords as ClickHouse does them, a read-only
user, loopback unless passwords are set, request size limits, no password ever printed."""

from __future__ import annotations

import base64
import gzip
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from _serve import ServeProcess, free_port, start_serve
from _support import subprocess_env
from clickhouse_connect.driver.exceptions import DatabaseError

PASSWORD = "s3cret-Pa55"
READER_PASSWORD = "read-0nly-pw"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("serve_auth")
    process = start_serve(home, "--readonly-user", "grafana", "--max-body-mb", "1", otlp=False,
                          MLTRACE_SERVE_PASSWORD=PASSWORD,
                          MLTRACE_SERVE_READONLY_PASSWORD=READER_PASSWORD)
    yield process
    code, err = process.stop()
    assert code == 0, err
    assert PASSWORD not in err and READER_PASSWORD not in err


def post(server: ServeProcess, sql: str | bytes, headers: dict[str, str] | None = None,
         **params: str) -> tuple[int, dict[str, str], bytes]:
    url = server.url + "/?" + urllib.parse.urlencode(params)
    data = sql.encode() if isinstance(sql, str) else sql
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_every_way_clickhouse_takes_credentials(guarded: ServeProcess) -> None:
    assert post(guarded, "SELECT 1", basic("default", PASSWORD))[2] == b"1\n"
    assert post(guarded, "SELECT 2", {"X-ClickHouse-User": "default",
                                      "X-ClickHouse-Key": PASSWORD})[2] == b"2\n"
    assert post(guarded, "SELECT 3", user="default", password=PASSWORD)[2] == b"3\n"
    client = clickhouse_connect.get_client(host="127.0.0.1", port=guarded.port,
                                           username="default", password=PASSWORD)
    assert client.command("SELECT 4") == 4
    client.close()


@pytest.mark.parametrize("headers,params", [
    ({}, {}),
    (basic("default", "wrong"), {}),
    ({"X-ClickHouse-User": "default", "X-ClickHouse-Key": "wrong"}, {}),
    ({}, {"user": "nobody", "password": PASSWORD}),
])
def test_wrong_credentials_are_refused_with_516(
    guarded: ServeProcess, headers: dict[str, str], params: dict[str, str]
) -> None:
    status, response_headers, body = post(guarded, "SELECT 1", headers, **params)
    assert status == 403
    assert response_headers["X-ClickHouse-Exception-Code"] == "516"
    assert b"AUTHENTICATION_FAILED" in body
    assert PASSWORD.encode() not in body


def test_mixing_headers_with_basic_auth_is_refused(guarded: ServeProcess) -> None:
    headers = {**basic("default", PASSWORD), "X-ClickHouse-User": "default",
               "X-ClickHouse-Key": PASSWORD}
    status, response_headers, _ = post(guarded, "SELECT 1", headers)
    assert (status, response_headers["X-ClickHouse-Exception-Code"]) == (401, "194")


def test_readonly_user_reads_but_never_writes(guarded: ServeProcess) -> None:
    reader = basic("grafana", READER_PASSWORD)
    assert post(guarded, "SELECT count() FROM otel_traces", reader)[0] == 200
    assert post(guarded, "SHOW TABLES", reader)[0] == 200
    writes = [
        "CREATE TABLE x (a UInt8) ENGINE = Memory",
        "INSERT INTO otel_traces (SpanId) VALUES ('x')",
        "DROP TABLE otel_traces",
        "SELECT count() FROM file('/etc/passwd', 'LineAsString')",
        "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')",
        "SET readonly = 0",
        "SELECT 1 SETTINGS readonly = 0",
    ]
    for sql in writes:
        status, headers, body = post(guarded, sql, reader)
        assert (status, headers["X-ClickHouse-Exception-Code"]) == (500, "164"), (sql, body)
    _, headers, _ = post(guarded, b'{"SpanId":"x"}', reader,
                              query="INSERT INTO otel_traces FORMAT JSONEachRow")
    assert headers["X-ClickHouse-Exception-Code"] == "164"
    client = clickhouse_connect.get_client(host="127.0.0.1", port=guarded.port,
                                           username="grafana", password=READER_PASSWORD)
    assert client.query("SELECT 1 + 1").result_rows == [(2,)]
    with pytest.raises(DatabaseError) as caught:
        client.command("TRUNCATE TABLE otel_traces")
    assert "164" in str(caught.value)
    client.close()
    full = basic("default", PASSWORD)
    assert post(guarded, "SELECT count() FROM otel_traces", full)[0] == 200


def test_request_size_limit(guarded: ServeProcess) -> None:
    big = b"SELECT '" + b"x" * (2 << 20) + b"'"
    status, headers, _ = post(guarded, big, basic("default", PASSWORD))
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (413, "229")
    # a small body that inflates past the limit
    bomb = gzip.compress(b"SELECT '" + b"y" * (4 << 20) + b"'")
    status, headers, _ = post(guarded, bomb, {**basic("default", PASSWORD),
                                              "Content-Encoding": "gzip"})
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (413, "229")
    assert post(guarded, "SELECT 'still fine'", basic("default", PASSWORD))[0] == 200


def test_non_loopback_bind_needs_passwords(tmp_path: Path) -> None:
    env = {"MLTRACE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(tmp_path),
         "--host", "0.0.0.0", "--port", str(free_port()), "--otlp-port", "0"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode != 0
    assert "not loopback" in proc.stderr and "password" in proc.stderr
    assert not (tmp_path / "server.json").exists()
    proc = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(tmp_path),
         "--host", "0.0.0.0", "--port", str(free_port()), "--otlp-port", "0",
         "--readonly-user", "grafana"],
        capture_output=True, text=True, timeout=60, env={**env, "MLTRACE_SERVE_PASSWORD": "pw"},
    )
    assert proc.returncode != 0 and "grafana" in proc.stderr


def test_the_read_only_user_runs_every_reading_command(tmp_path: Path) -> None:
    """A dashboard's read-only user (readonly=1) can trace, inspect, review and check
    staleness and impact from the CLI: no query of theirs needs a table function."""
    home = tmp_path / "home"
    with_runs = [sys.executable, "-c", (
        "import datetime as dt, mltrace_otel as m\n"
        "t = dt.datetime(2024, 1, 1)\n"
        "for day, (ins, outs) in enumerate([([], ['raw.csv']), (['raw.csv'], ['model.pkl']),"
        " ([], ['raw.csv']), (['model.pkl'], ['preds'])]):\n"
        "    r = m.ComponentRun(f'stage{day}', t + dt.timedelta(days=40 * day),"
        " t + dt.timedelta(days=40 * day, hours=1))\n"
        "    r.add_inputs(ins); r.add_outputs(outs); m.log_component_run(r)\n"
        "m.flag_output_id('preds')\n")]
    subprocess.run(with_runs, env=subprocess_env(home), check=True,
                   timeout=120)
    server = start_serve(home, "--readonly-user", "grafana", otlp=False,
                         MLTRACE_SERVE_PASSWORD=PASSWORD,
                         MLTRACE_SERVE_READONLY_PASSWORD=READER_PASSWORD)
    try:
        url = f"http://grafana:{READER_PASSWORD}@127.0.0.1:{server.port}/default"
        for command in (["trace", "preds"], ["stale"], ["impact", "raw.csv"], ["review"],
                        ["recent"], ["history", "stage1"]):
            shown = subprocess.run(
                [sys.executable, "-m", "mltrace_otel.cli", *command, "--json", "--url", url],
                env=subprocess_env(tmp_path / "elsewhere"),
                capture_output=True, text=True, timeout=120,
            )
            assert shown.returncode == 0, (command, shown.stderr)
            assert READER_PASSWORD not in shown.stdout + shown.stderr
        assert "was run 40 days ago" in shown.stdout  # history of stage1: stale by rule 1
    finally:
        server.stop()
