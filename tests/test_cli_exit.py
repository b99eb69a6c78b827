"""A store command run by the ``mltrace`` script itself ends with ``launch.exit_now``: the exit
functions run (the store closes, its lock is released), every byte of output arrives, the exit
code is the command's, and the interpreter's teardown is skipped."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from _support import run_script, subprocess_env, write_script

LOG_RUNS = """
    import mltrace_otel as mltrace

    for index in range(300):
        @mltrace.register("stage", input_vars=["raw"], output_vars=["out"])
        def stage(raw):
            out = f"out-{index}"

        stage(f"raw-{index}")
    mltrace.flush()
"""

MLTRACE = """
    import sys

    from mltrace_otel.cli.launch import run

    sys.argv[0] = "mltrace"
    run()
"""

# exit_now(code) with an exit function, unflushed output, an object whose finaliser would
# print during teardown, and (with "thread") a non-daemon thread still running.
EXIT_NOW = """
    import atexit
    import sys
    import threading
    import time

    from mltrace_otel.cli.launch import exit_now


    class Teardown:
        def __del__(self):
            print("teardown ran", file=sys.stderr)


    kept = Teardown()
    atexit.register(lambda: print("exit function ran", file=sys.stderr))
    sys.stdout.write("x" * 1_000_000)  # more than any pipe buffer, no newline
    if "thread" in sys.argv:
        threading.Thread(target=lambda: (time.sleep(0.5), print("thread done"))).start()
    code = {"none": None, "three": 3, "text": "went wrong"}[sys.argv[1]]
    exit_now(code)
"""


def exit_now(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = write_script(folder, "exit_now.py", EXIT_NOW)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=60)


def test_exit_now_runs_exit_functions_flushes_and_skips_the_teardown(tmp_path: Path) -> None:
    done = exit_now(tmp_path, "three")
    assert done.returncode == 3
    assert done.stdout == "x" * 1_000_000
    assert "exit function ran" in done.stderr
    assert "teardown ran" not in done.stderr  # sys.exit would print it


def test_exit_now_gives_the_codes_sys_exit_gives(tmp_path: Path) -> None:
    assert exit_now(tmp_path, "none").returncode == 0
    text = exit_now(tmp_path, "text")
    assert (text.returncode, text.stderr.splitlines()[0]) == (1, "went wrong")


def test_exit_now_waits_for_a_running_non_daemon_thread(tmp_path: Path) -> None:
    done = exit_now(tmp_path, "three", "thread")
    assert done.returncode == 3
    assert done.stdout.endswith("thread done\n")
    assert "teardown ran" in done.stderr  # the ordinary exit, which waits for the thread


def test_a_local_store_command_prints_everything_and_leaves_the_store_usable(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    run_script(write_script(tmp_path, "log.py", LOG_RUNS), home)
    cli = write_script(tmp_path, "mltrace.py", MLTRACE)

    def mltrace(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(cli), *args], capture_output=True, text=True,
                              env=subprocess_env(home, MLTRACE_LOCK_TIMEOUT="5"), timeout=120)

    # the first command ingests the spool (a write), then skips the teardown
    history = mltrace("history", "stage", "--limit", "300")
    assert history.returncode == 0, history.stderr
    assert history.stdout.count("│ stage ") == 300
    assert list((home / "spool").glob("*.arrow")) == []

    missing = mltrace("inspect", "0123456789abcdef")
    assert missing.returncode == 1
    assert "0123456789abcdef" in missing.stderr

    # a second process opens the store at once: the lock went with the first
    results = []
    readers = [threading.Thread(target=lambda: results.append(mltrace("recent", "--limit", "1")))
               for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert [result.returncode for result in results] == [0, 0]
