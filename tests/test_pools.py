"""Runs in worker pools are delivered (SPEC 3.1: a worker process flushes at the end of each
run): multiprocessing pools with fork and spawn (including a spawn pool closed by its ``with``
block, which terminates the workers), concurrent.futures and joblib/loky, counted through the
query API on the embedded store, and on the ``otlp`` backend through a real receiver, also
when it is down while the pools run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _otlp_receiver import Receiver
from _support import release_store, run_script, subprocess_env, write_script

import mltrace_otel as mltrace
from mltrace_otel.sdk.outbox import Outbox

WORK = """
    import mltrace_otel as mltrace

    @mltrace.Component("pooled").run(input_vars=["source"], output_vars=["target"])
    def work(i):
        source = f"raw-{i}.csv"
        target = f"clean-{i}.csv"
        return i
"""

POOLS = """
    import concurrent.futures
    import multiprocessing
    import sys

    import joblib

    from work import work

    if __name__ == "__main__":
        counts = {}
        with multiprocessing.get_context("fork").Pool(2) as pool:
            counts["fork"] = len(pool.map(work, range(0, 100)))
        # Leaving the with block terminates the workers (SIGTERM) right after the results.
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            counts["spawn"] = len(pool.map(work, range(100, 200)))
        with concurrent.futures.ProcessPoolExecutor(2) as executor:
            counts["executor"] = len(list(executor.map(work, range(200, 300))))
        counts["loky"] = len(
            joblib.Parallel(n_jobs=2, backend="loky")(
                joblib.delayed(work)(i) for i in range(300, 400)
            )
        )
        work(400)  # and one in the main process
        print(counts, flush=True)
"""


def _pool_scripts(tmp_path: Path) -> Path:
    write_script(tmp_path, "work.py", WORK)
    return write_script(tmp_path, "pools.py", POOLS)


def _path(tmp_path: Path) -> str:
    """PYTHONPATH for the scripts: their folder (spawned workers import ``work`` from it)."""
    return os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))


def test_401_runs_across_pools_are_all_stored(home: Path, tmp_path: Path) -> None:
    script = _pool_scripts(tmp_path)
    release_store()
    proc = run_script(script, home, PYTHONPATH=_path(tmp_path))
    assert "'fork': 100, 'spawn': 100, 'executor': 100, 'loky': 100" in proc.stdout
    assert proc.stderr == ""
    runs = mltrace.get_history("pooled", limit=None)
    assert len(runs) == 401
    assert len({run.id for run in runs}) == 401
    assert sorted(run.outputs[0] for run in runs) == sorted(f"clean-{i}.csv" for i in range(401))
    # Lineage across worker processes is intact.
    assert mltrace.trace("clean-7.csv")[0][1].inputs == ["raw-7.csv"]


def test_401_pooled_runs_reach_an_otlp_endpoint(home: Path, tmp_path: Path) -> None:
    script = _pool_scripts(tmp_path)
    receiver = Receiver(tmp_path).start()
    try:
        run_script(
            script, home, PYTHONPATH=_path(tmp_path), MLTRACE_BACKEND="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        )
    finally:
        receiver.kill()
    received = {span["span_id"] for span in receiver.spans() if span["component"] == "pooled"}
    assert len(received) == 401


def test_pooled_runs_wait_in_the_outbox_with_one_warning(home: Path, tmp_path: Path) -> None:
    script = _pool_scripts(tmp_path)
    receiver = Receiver(tmp_path)  # down while the pools run
    env = {"MLTRACE_BACKEND": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
           "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    proc = run_script(script, home, PYTHONPATH=_path(tmp_path), **env)
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and "outbox" in warnings[0], proc.stderr
    assert Outbox(home / "outbox").pending_spans() == 401

    receiver.start()
    try:
        delivered = subprocess.run(
            [sys.executable, "-c", "import mltrace_otel as m; print(m.flush())"],
            env=subprocess_env(home, **env), capture_output=True, text=True, timeout=120,
        )
    finally:
        receiver.kill()
    assert delivered.stdout.strip() == "True", delivered.stderr
    received = {span["span_id"] for span in receiver.spans() if span["component"] == "pooled"}
    assert len(received) == 401
