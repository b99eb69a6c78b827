"""No starvation on the embedded store (SPEC 6): a process that waits gets the store within
about two seconds while another queries continuously, and a timeout names the holder."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _support import release_store, start_script, subprocess_env, write_script

HOLDER = """
    import os
    import sys
    import time

    import mltrace_otel as mltrace

    mode, seconds = sys.argv[1], float(sys.argv[2])
    mltrace.query("SELECT 1")
    print("holding", os.getpid(), flush=True)
    deadline = time.monotonic() + seconds
    count = 0
    if mode == "loop":  # a notebook that queries far more often than once a second
        while time.monotonic() < deadline:
            mltrace.query("SELECT count() FROM otel_traces")
            count += 1
    else:  # one query that holds the store for about four seconds
        mltrace.query(
            "SELECT sum(sleepEachRow(0.5)) FROM numbers(8) SETTINGS max_block_size = 1"
        )
    print("queries", count, flush=True)
"""

WAITER = """
    import time

    import chdb.session  # imported up front: the time measured is the wait, open and query

    import mltrace_otel as mltrace
    from mltrace_otel.store import StoreError

    started = time.monotonic()
    try:
        mltrace.query("SELECT 1")
        print("waited", round(time.monotonic() - started, 3), flush=True)
    except StoreError as error:
        print("error", error, flush=True)
"""


def _start_holder(tmp_path: Path, home: Path, mode: str, seconds: float):
    holder = start_script(write_script(tmp_path, "holder.py", HOLDER), home, mode, str(seconds))
    line = holder.stdout.readline()
    assert line.startswith("holding"), line + holder.stderr.read()
    return holder, int(line.split()[1])


def test_a_waiter_gets_the_store_while_another_process_queries_continuously(
    home: Path, tmp_path: Path
) -> None:
    release_store()
    holder, _pid = _start_holder(tmp_path, home, "loop", 12)
    waiter_script = write_script(tmp_path, "waiter.py", WAITER)
    waits = []
    for _ in range(3):
        time.sleep(0.5)
        waiter = start_script(waiter_script, home)
        out, err = waiter.communicate(timeout=60)
        assert waiter.returncode == 0, err
        assert out.startswith("waited"), out + err
        waits.append(float(out.split()[1]))
    out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err
    assert max(waits) < 2.0, waits
    # The holder kept working: it only stepped aside between its queries.
    assert int(out.split()[-1]) > 20, out


def test_the_timeout_error_names_the_holder(home: Path, tmp_path: Path) -> None:
    release_store()
    holder, pid = _start_holder(tmp_path, home, "sleep", 0)
    time.sleep(0.3)
    waiter = start_script(
        write_script(tmp_path, "waiter.py", WAITER), home, MLTRACE_LOCK_TIMEOUT="1"
    )
    out, err = waiter.communicate(timeout=60)
    holder.communicate(timeout=60)
    assert out.startswith("error"), out + err
    assert f"in use by process {pid} (" in out, out
    assert "holder.py" in out, out
    assert "MLTRACE_LOCK_TIMEOUT" in out


def test_a_holder_started_with_a_multiline_program_is_named_on_one_line(
    home: Path, tmp_path: Path, run_cli
) -> None:
    """``python -c`` with a program of several lines: the CLI's error stays one line."""
    release_store()
    program = HOLDER.replace('mode, seconds = sys.argv[1], float(sys.argv[2])',
                             'mode, seconds = "sleep", 0.0')
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(program)],
                              env=subprocess_env(home), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().startswith("holding")
    refused = run_cli("recent", MLTRACE_LOCK_TIMEOUT="1")
    holder.communicate(timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert f"in use by process {holder.pid} (python -c import os import sys" in refused.stderr


@pytest.mark.parametrize("variable", ["MLTRACE_LOCK_TIMEOUT", "MLTRACE_IDLE_RELEASE"])
def test_a_lock_setting_that_is_no_number_warns_and_keeps_its_default(
    home: Path, run_cli, variable: str
) -> None:
    done = run_cli("recent", "--json", **{variable: "abc"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert done.stderr.splitlines() == [
        f"mltrace: {variable}='abc' is not a positive number; using "
        f"{60.0 if variable == 'MLTRACE_LOCK_TIMEOUT' else 1.0}"
    ]
