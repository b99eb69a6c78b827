"""A long-lived process on the local backend follows ``mltrace serve`` as it comes and goes
(SPEC 6: a process waiting for the embedded store gets it within a few seconds): a server
that takes the store answers the process's next query, and when the server is killed or
restarted with a new key, the process queries the embedded store or the new server."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from _serve import start_serve
from _support import release_store, subprocess_env, write_script

NOTEBOOK = """
    import sys
    import time

    import mltrace_otel as mltrace

    stage = mltrace.Component("cell")

    @stage.run(output_vars=["target"])
    def cell(i):
        target = f"cell-{i}.csv"

    logged = 0
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        cell(logged)
        logged += 1
        started = time.monotonic()
        try:
            runs = len(mltrace.get_recent_run_ids(limit=100))
            print(f"ok {runs} {time.monotonic() - started:.1f}", flush=True)
        except Exception as error:
            print(f"error {time.monotonic() - started:.1f} {error}", flush=True)
"""

PASSWORD = "S3cret-serve-pw"
LOCK_TIMEOUT = "30"  # what the old code waited before failing; the handover takes ~1 s


def test_a_notebook_follows_the_server_as_it_starts_dies_and_restarts(
    home: Path, tmp_path: Path
) -> None:
    release_store()
    notebook = subprocess.Popen(
        [sys.executable, str(write_script(tmp_path, "notebook.py", NOTEBOOK))],
        env=subprocess_env(home, MLTRACE_LOCK_TIMEOUT=LOCK_TIMEOUT),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )

    def run_cell() -> tuple[int, float]:
        assert notebook.stdin is not None and notebook.stdout is not None
        notebook.stdin.write("cell\n")
        notebook.stdin.flush()
        reply = notebook.stdout.readline().split(maxsplit=2)
        assert reply[0] == "ok", reply
        return int(reply[1]), float(reply[2])

    servers = []
    try:
        assert run_cell()[0] == 1  # the embedded store, opened by this process
        servers.append(start_serve(home, "--password", PASSWORD, otlp=False))
        runs, seconds = run_cell()  # it waits for the lock the server now holds
        assert runs == 2 and seconds < 10
        servers[-1].process.send_signal(signal.SIGKILL)
        servers[-1].process.wait(timeout=30)
        assert run_cell()[0] == 3  # the server is gone: the embedded store again
        time.sleep(1.5)  # the notebook lets the store go when idle; a new server takes it
        servers.append(start_serve(home, "--password", PASSWORD, otlp=False))
        assert run_cell()[0] == 4  # through the new server, with its new key
        assert notebook.stdin is not None
        notebook.stdin.write("quit\n")
        notebook.stdin.flush()
        _, stderr = notebook.communicate(timeout=60)
    finally:
        notebook.kill()
        for server in servers:
            if server.process.poll() is None:
                server.stop()
    assert notebook.returncode == 0, stderr
    assert stderr == "", stderr  # no driver noise, no password


def test_a_server_restarting_while_the_store_is_waited_for_answers(
    home: Path, tmp_path: Path, monkeypatch
) -> None:
    """The server a process used is gone; the embedded store it turns to is held by the new
    server, which announces itself a second later: the call is answered by the new server
    (three attempts: gone, served, answered). The servers are what discovery says; the new
    one is a real ``mltrace serve`` of another home, so only this process's routing is timed."""
    from mltrace_otel.config import resolve
    from mltrace_otel.server import discovery
    from mltrace_otel.store import home as home_store
    from mltrace_otel.store.lock import StoreLock

    release_store()
    other = start_serve(tmp_path / "other", otlp=False)
    try:
        serving = discovery.read(tmp_path / "other")
        assert serving is not None
        gone = discovery.ServerInfo("http://127.0.0.1:9", serving.pid, "old-key")
        said = {"server": gone}
        monkeypatch.setattr(home_store.discovery, "running_server",
                            lambda _home: said["server"])
        store = home_store.HomeStore(resolve(backend="local", home=home))
        said["server"] = None  # the old server was killed: no server.json
        new_server = StoreLock(home)
        home.mkdir(parents=True, exist_ok=True)
        new_server.acquire(1)  # the new server opens the store first...
        announce = threading.Timer(1.0, lambda: said.update(server=serving))
        announce.start()  # ...then writes server.json
        try:
            assert store.query("SELECT 1 AS one").rows == [[1]]
        finally:
            announce.cancel()
            new_server.release()
            store.close()
    finally:
        other.stop()
