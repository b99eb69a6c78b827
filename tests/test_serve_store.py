"""While `mltrace serve` runs: it ingests the spool on its own, local processes query through
it (a CLI never loads chDB), its discovery file comes and goes, and SIGTERM loses nothing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from _serve import free_port, serve_process, start_serve
from _support import run_script, subprocess_env, write_script

import mltrace_otel as mltrace
from mltrace_otel.server import discovery

PIPELINE = """
    import sys

    import mltrace_otel as mltrace

    component = mltrace.Component(sys.argv[1])
    for index in range(int(sys.argv[2])):
        @component.run(output_vars=["output"])
        def stage():
            output = f"{sys.argv[1]}-out-{index}"
        stage()
        mltrace.flush()  # one spool file per run
    assert "chdb" not in sys.modules
"""

CLI_WITHOUT_CHDB = """
    import sys

    from mltrace_otel.cli.commands import main

    try:
        main(sys.argv[1:], standalone_mode=False)
    finally:
        print("chdb loaded" if "chdb" in sys.modules else "no chdb", file=sys.stderr)
"""


def spool_files(home: Path) -> list[Path]:
    return list((home / "spool").rglob("*.arrow"))


def test_discovery_file_lives_with_the_server(home: Path) -> None:
    with serve_process(home, otlp=False) as server:
        path = home / discovery.FILE_NAME
        info = json.loads(path.read_text())
        assert info["url"] == server.url and info["pid"] == server.process.pid
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # holds the local user's key
        assert discovery.running_server(home) is not None
    assert not path.exists()


def test_stale_discovery_files_are_ignored(home: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    discovery.write(home, discovery.ServerInfo(f"http://127.0.0.1:{free_port()}", dead.pid, "k"))
    assert discovery.running_server(home) is None
    assert not (home / discovery.FILE_NAME).exists()  # a killed server's file is cleaned up
    # a live pid that does not answer /ping (e.g. reused by another program)
    discovery.write(home, discovery.ServerInfo(f"http://127.0.0.1:{free_port()}", os.getpid(),
                                               "k"))
    assert discovery.running_server(home) is None
    assert mltrace.get_recent_run_ids() == []  # falls back to the embedded store


def test_spool_is_ingested_without_anyone_querying(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "pipeline.py", PIPELINE)
    with serve_process(home, otlp=False):
        run_script(script, home, "auto", "3")
        started = time.monotonic()
        while spool_files(home) and time.monotonic() < started + 10:  # generous on a busy CI
            time.sleep(0.05)
        assert spool_files(home) == [], "the server never ingested the spool on its own"


def test_cli_queries_through_the_server_without_chdb(home: Path, tmp_path: Path) -> None:
    pipeline = write_script(tmp_path, "pipeline.py", PIPELINE)
    cli = write_script(tmp_path, "cli.py", CLI_WITHOUT_CHDB)
    with serve_process(home, otlp=False):
        run_script(pipeline, home, "through", "2")
        # the server holds the store lock: a CLI that opened chDB would wait and fail
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(cli), "trace", "through-out-1", "--json"],
            env=subprocess_env(home, MLTRACE_LOCK_TIMEOUT="1"), capture_output=True, text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr
        assert "no chdb" in proc.stderr
        levels = json.loads(proc.stdout)
        assert [(level["level"], level["component_name"]) for level in levels] == [(0, "through")]
        assert elapsed < 10
        # notebooks too: this process's queries go through the server
        mltrace.configure(backend="local", home=home)
        assert len(mltrace.get_history("through")) == 2
        assert "through-out-0" in mltrace.get_history("through")[1].outputs


def test_sigterm_ingests_every_pending_run(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "pipeline.py", PIPELINE)
    server = start_serve(home, otlp=False)
    run_script(script, home, "last", "20")
    code, err = server.stop()  # at once: the last files are still in the spool
    assert code == 0, err
    assert not (home / discovery.FILE_NAME).exists()
    assert spool_files(home) == []
    mltrace.configure(backend="local", home=home)
    assert len(mltrace.get_history("last", limit=100)) == 20


def test_sigterm_finishes_the_request_in_flight(home: Path) -> None:
    server = start_serve(home, otlp=False)
    slow = subprocess.Popen(
        ["curl", "-sS", "--data-binary", "SELECT sum(sleepEachRow(0.2)) + 7 FROM numbers(10)",
         server.url + "/"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(0.5)  # the query is running
    code, err = server.stop()
    out, curl_err = slow.communicate(timeout=30)
    assert (slow.returncode, out) == (0, "7\n"), curl_err
    assert code == 0, err


def test_query_time_limit(home: Path) -> None:
    with serve_process(home, "--query-timeout", "1", otlp=False) as server:
        proc = subprocess.run(
            ["curl", "-sS", "-D", "-", "--data-binary",
             "SELECT sum(sleepEachRow(0.5)) FROM numbers(10)", server.url + "/"],
            capture_output=True, text=True, timeout=60,
        )
        # max_execution_time: ClickHouse stops it, or refuses it as too slow from its speed
        assert ("X-ClickHouse-Exception-Code: 159" in proc.stdout
                or "X-ClickHouse-Exception-Code: 160" in proc.stdout), proc.stdout
        assert "TIMEOUT_EXCEEDED" in proc.stdout or "TOO_SLOW" in proc.stdout


def test_a_corrupt_spool_file_never_fails_a_query(home: Path) -> None:
    with serve_process(home, otlp=False) as server:
        spool = home / "spool"
        spool.mkdir(exist_ok=True)
        (spool / f"{time.time_ns()}-1-corrupt.arrow").write_bytes(b"not an arrow file")
        time.sleep(1.0)  # at least one ingest round met it
        proc = subprocess.run(["curl", "-sS", "-f", "--data-binary", "SELECT 'alive'",
                               server.url + "/"], capture_output=True, text=True, timeout=30)
        assert (proc.returncode, proc.stdout) == (0, "alive\n"), proc.stderr


def test_a_second_server_on_the_same_home_is_refused(home: Path) -> None:
    with serve_process(home, otlp=False) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(home),
             "--port", str(free_port()), "--otlp-port", "0"],
            capture_output=True, text=True, timeout=60, env=subprocess_env(home),
        )
        assert proc.returncode != 0
        assert f"already served at {server.url}" in proc.stderr
    occupied = start_serve(home, otlp=False)  # a port in use: a clear one-line error
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(home / "other"),
             "--port", str(occupied.port), "--otlp-port", "0"],
            capture_output=True, text=True, timeout=60, env=subprocess_env(home),
        )
        assert proc.returncode != 0 and "cannot listen" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        occupied.stop()
