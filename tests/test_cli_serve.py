"""The ``mltrace`` script hands store commands to a running ``mltrace serve``: the same output
and exit codes as without the server, no click or chDB in the CLI process, writes seen by the
next command, only the local user may ask, and a dead server falls back to the local store."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _serve import free_port, serve_process
from _support import run_script, subprocess_env, write_script

from mltrace_otel.server import discovery

PIPELINE = """
    import sys

    import mltrace_otel as mltrace

    for index in range(int(sys.argv[1])):
        @mltrace.register("clean", input_vars=["raw"], output_vars=["cleaned"])
        def clean(raw):
            cleaned = f"cleaned-{index}"

        @mltrace.register("train", input_vars=["cleaned"], output_vars=["model"])
        def train(cleaned):
            model = f"model-{index}"

        clean(f"raw-{index}")
        train(f"cleaned-{index}")
    mltrace.flush()
"""

# The `mltrace` script, reporting which heavy modules the process loaded (from an exit
# function: a store command run locally skips the interpreter's teardown).
SCRIPT = """
    import atexit
    import sys

    from mltrace_otel.cli.launch import run


    @atexit.register
    def report():
        loaded = [name for name in ("click", "chdb", "pyarrow") if name in sys.modules]
        print("loaded:" + ",".join(loaded), file=sys.stderr)


    sys.argv[0] = "mltrace"
    run()
"""


def mltrace_cli(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], env=subprocess_env(
        home, MLTRACE_LOCK_TIMEOUT="2"), capture_output=True, text=True, timeout=120)


def loaded(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stderr.rsplit("loaded:", 1)[1].strip()


def without_loaded(stderr: str) -> str:
    return stderr.rsplit("loaded:", 1)[0]


COMMANDS = [
    ("trace", "model-1", "--json"),
    ("recent", "--limit", "3", "--json"),
    ("history", "train", "--json"),
    ("components", "--json"),
    ("sql", "SELECT count() AS runs FROM otel_traces", "--json"),
    ("trace", "model-0"),
    ("impact", "raw-0", "--json"),
    ("inspect", "no-such-run"),  # an error: exit code and message must match too
    ("sql", "DROP TABLE otel_traces"),  # refused: read-only unless --write
]


@pytest.fixture
def cli(tmp_path: Path) -> Path:
    return write_script(tmp_path, "mltrace_cli.py", SCRIPT)


@pytest.fixture
def logged(home: Path, tmp_path: Path) -> Path:
    run_script(write_script(tmp_path, "pipeline.py", PIPELINE), home, "2")
    return home


def test_store_commands_answer_through_the_server_as_they_do_without_it(
    logged: Path, cli: Path
) -> None:
    local = [mltrace_cli(cli, logged, *command) for command in COMMANDS]
    assert "chdb" in loaded(local[0])  # without a server, the CLI opens the store itself
    with serve_process(logged, otlp=False):
        served = [mltrace_cli(cli, logged, *command) for command in COMMANDS]
    for command, here, there in zip(COMMANDS, local, served, strict=True):
        assert (there.returncode, there.stdout, without_loaded(there.stderr)) == (
            here.returncode, here.stdout, without_loaded(here.stderr)), command
        assert loaded(there) == "", f"{command}: the CLI process loaded {loaded(there)}"
    assert [proc.returncode for proc in served[-2:]] == [1, 1]
    assert json.loads(served[0].stdout)[0]["component_name"] == "train"


def test_writes_through_the_server_are_seen_by_the_next_command(
    logged: Path, cli: Path, tmp_path: Path
) -> None:
    pipeline = write_script(tmp_path, "pipeline.py", PIPELINE)
    with serve_process(logged, otlp=False) as server:
        assert mltrace_cli(cli, logged, "trace", "model-1").returncode == 0  # index built
        flagged = mltrace_cli(cli, logged, "flag", "model-1")
        assert (flagged.returncode, flagged.stdout) == (0, "flagged model-1\n")
        review = json.loads(mltrace_cli(cli, logged, "review", "--json").stdout)
        assert review["flagged_outputs"] == ["model-1"]
        run_id = json.loads(mltrace_cli(cli, logged, "history", "train", "--json").stdout)[0]
        noted = mltrace_cli(cli, logged, "note", run_id["id"], "retrained after the fix")
        assert noted.returncode == 0, noted.stderr
        inspected = json.loads(mltrace_cli(cli, logged, "inspect", run_id["id"], "--json").stdout)
        assert "retrained after the fix" in json.dumps(inspected)
        # model-1 made again, inserted over ClickHouse HTTP (the clickhouse backend, as the
        # Collector does): the server's warm lineage index must see the newer producer
        run_script(pipeline, logged, "2", MLTRACE_BACKEND="clickhouse",
                   MLTRACE_CLICKHOUSE_URL=server.url)
        newest = {name: json.loads(mltrace_cli(cli, logged, "history", name, "--json").stdout)[0]
                  for name in ("clean", "train")}
        assert newest["train"]["id"] != run_id["id"]
        traced = mltrace_cli(cli, logged, "trace", "model-1", "--json")
        assert traced.returncode == 0, traced.stderr
        assert [(level["component_name"], level["id"]) for level in json.loads(traced.stdout)] == [
            ("train", newest["train"]["id"]), ("clean", newest["clean"]["id"])]
        assert loaded(traced) == ""


def _post(url: str, body: bytes, user: str, password: str) -> tuple[int, str]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        connection.request("POST", discovery.COMMAND_PATH, body=body,
                           headers={"Authorization": f"Basic {token}"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_only_the_local_user_runs_commands_and_only_store_commands(logged: Path) -> None:
    with serve_process(logged, otlp=False) as server:
        key = discovery.read(logged).key
        good = json.dumps({"args": ["tags"]}).encode()
        assert _post(server.url, good, "default", "")[0] == 403
        assert _post(server.url, good, discovery.LOCAL_USER, "wrong")[0] == 403
        status, text = _post(server.url, good, discovery.LOCAL_USER, key)
        assert status == 200 and json.loads(text)["exit_code"] == 0
        for body in (b"{not json", json.dumps({"args": ["serve"]}).encode(),
                     json.dumps({"args": ["demo", "--home", "/tmp/x"]}).encode(),
                     json.dumps({"args": "tags"}).encode(),
                     json.dumps({"args": ["tags"], "width": "wide"}).encode()):
            assert _post(server.url, body, discovery.LOCAL_USER, key)[0] == 400, body


def test_a_server_that_is_gone_leaves_the_command_to_this_process(
    logged: Path, cli: Path
) -> None:
    # a live pid (this test) but nothing listening: the command runs on the local store
    discovery.write(logged, discovery.ServerInfo(f"http://127.0.0.1:{free_port()}",
                                                 os.getpid(), "key"))
    proc = mltrace_cli(cli, logged, "trace", "model-1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "chdb" in loaded(proc)
    assert [level["component_name"] for level in json.loads(proc.stdout)] == ["train", "clean"]


def test_url_and_help_never_go_to_the_server(logged: Path, cli: Path) -> None:
    with serve_process(logged, otlp=False) as server:
        helped = mltrace_cli(cli, logged, "trace", "--help")
        assert helped.returncode == 0 and "OUTPUT_ID" in helped.stdout
        assert "click" in loaded(helped)
        direct = mltrace_cli(cli, logged, "tags", "--url", server.url)
        assert direct.returncode == 0, direct.stderr
        assert "click" in loaded(direct)
