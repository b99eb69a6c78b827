"""Several processes (SPEC 5): pipeline stages in separate processes, concurrent writers,
crashes after a flush, and a CLI next to a process that holds the store."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from _support import (
    release_store,
    run_script,
    start_script,
    subprocess_env,
    wait_all,
    write_script,
)

import mltrace_otel as mltrace

STAGE = """
    import sys

    import mltrace_otel as mltrace

    name, reads, writes = sys.argv[1], sys.argv[2], sys.argv[3]

    @mltrace.Component(name, owner="pipeline-team", tags=["pipeline"]).run(
        input_vars=["inputs"], output_vars=["outputs"]
    )
    def stage():
        inputs = [item for item in reads.split(",") if item]
        outputs = [item for item in writes.split(",") if item]
        return len(outputs)

    stage()
    # No explicit flush: finished runs are exported at exit.
"""


def test_three_process_pipeline_traced_from_the_cli(home: Path, tmp_path: Path, run_cli) -> None:
    script = write_script(tmp_path, "stage.py", STAGE)
    run_script(script, home, "ingest", "s3://bucket/raw", "raw.csv")
    run_script(script, home, "clean", "raw.csv", "clean.csv")
    run_script(script, home, "train", "clean.csv", "model.pkl,metrics.json")

    shown = run_cli("trace", "model.pkl", check=True)
    lines = [line for line in shown.stdout.splitlines() if line.strip()]
    text = shown.stdout
    assert "model.pkl" in lines[0]
    stages = ["train", "clean", "ingest"]
    positions = [text.index(f"[{level}] {name}") for level, name in enumerate(stages)]
    assert positions == sorted(positions), text
    # The tree indents each level further than the one above it.
    indents = [
        next(line for line in lines if f"[{level}] {name}" in line).index(f"[{level}]")
        for level, name in enumerate(stages)
    ]
    assert indents[0] < indents[1] < indents[2], text
    assert "raw.csv" in text and "clean.csv" in text
    assert shown.stderr == ""

    as_json = json.loads(run_cli("trace", "model.pkl", "--json", check=True).stdout)
    assert [(item["level"], item["component_name"]) for item in as_json] == [
        (0, "train"),
        (1, "clean"),
        (2, "ingest"),
    ]
    train, clean, ingest = as_json
    assert train["inputs"] == ["clean.csv"]
    assert train["outputs"] == ["model.pkl", "metrics.json"]
    assert train["dependencies"] == [clean["id"]]
    assert clean["dependencies"] == [ingest["id"]]
    assert ingest["dependencies"] == []
    # Each stage ran in its own process, so each run is its own trace.
    assert len({item["trace_id"] for item in as_json}) == 3
    for item in as_json:
        assert item["status"] == "OK"
        assert item["id"] in text

    # And the same from the API in this process.
    levels = mltrace.trace("model.pkl")
    assert [(level, run.id) for level, run in levels] == [
        (item["level"], item["id"]) for item in as_json
    ]
    assert mltrace.get_component_information("clean").owner == "pipeline-team"


WRITER = """
    import os
    import sys
    import time
    from pathlib import Path

    import mltrace_otel as mltrace

    worker, runs, go = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.01)

    component = mltrace.Component(f"writer{worker}")

    @component.run(input_vars=["source"], output_vars=["target"])
    def step(index):
        source = f"w{worker}-in-{index}"
        target = f"w{worker}-out-{index}"

    for index in range(runs):
        step(index)
        if index % 10 == 9:
            mltrace.flush()  # many small spool files published while others write
    print(os.getpid())
"""


def test_eight_processes_logging_at_once_lose_no_run(home: Path, tmp_path: Path, run_cli) -> None:
    workers, runs = 8, 50
    script = write_script(tmp_path, "writer.py", WRITER)
    go = tmp_path / "go"
    procs = [start_script(script, home, str(w), str(runs), str(go)) for w in range(workers)]
    go.touch()
    # Query (and so ingest the spool) while the writers are still publishing.
    while any(proc.poll() is None for proc in procs):
        assert len(mltrace.get_recent_run_ids(limit=1000)) <= workers * runs
    wait_all(procs)

    ids = mltrace.get_recent_run_ids(limit=1000)
    assert len(ids) == workers * runs
    assert len(set(ids)) == workers * runs
    ((spans, distinct),) = mltrace.query("SELECT count(), uniqExact(SpanId) FROM otel_traces")
    assert (spans, distinct) == (workers * runs, workers * runs)
    per_component = dict(
        mltrace.query("SELECT Component, uniqExact(SpanId) FROM mltrace_runs GROUP BY Component")
    )
    assert per_component == {f"writer{worker}": runs for worker in range(workers)}
    spool = home / "spool"
    assert not list(spool.rglob("*.arrow"))

    count_sql = "SELECT uniqExact(SpanId) AS runs FROM mltrace_runs"
    counted = run_cli("sql", count_sql, "--json", check=True)
    assert json.loads(counted.stdout) == [{"runs": workers * runs}]


CRASHER = """
    import os
    import signal
    import sys

    import mltrace_otel as mltrace

    @mltrace.Component("crasher").run(output_vars=["out"])
    def step(index):
        out = f"crash-out-{index}"

    for index in range(int(sys.argv[1])):
        step(index)
    assert mltrace.flush()
    print("flushed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_process_killed_after_flush_loses_nothing_flushed(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "crasher.py", CRASHER)
    proc = subprocess.run(
        [sys.executable, str(script), "25"],
        env=subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    assert proc.stdout.strip() == "flushed"
    runs = mltrace.get_history("crasher", limit=100)
    assert len(runs) == 25
    assert sorted(run.outputs[0] for run in runs) == sorted(f"crash-out-{i}" for i in range(25))
    assert [level for level, _ in mltrace.trace("crash-out-24")] == [0]


def test_cli_waits_for_a_process_that_holds_the_store(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "stage.py", STAGE)
    run_script(script, home, "only", "", "held.csv")
    assert len(mltrace.get_history("only")) == 1  # this process now holds the store
    proc = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "history", "only", "--json"],
        env=subprocess_env(home, MLTRACE_LOCK_TIMEOUT="60"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert [run["outputs"] for run in json.loads(proc.stdout)] == [["held.csv"]]
    # This process opens the store again on its next query.
    assert len(mltrace.get_history("only")) == 1
    release_store()


TIED_PRODUCER = """
    import sys
    from datetime import datetime, timezone

    import mltrace_otel as mltrace

    run = mltrace.ComponentRun(sys.argv[1])
    run.set_start_timestamp(datetime(2026, 1, 1, 8, tzinfo=timezone.utc))
    run.set_end_timestamp(datetime(2026, 1, 1, 9, tzinfo=timezone.utc))
    run.add_output("tied.csv")
    mltrace.log_component_run(run)
    mltrace.flush()  # one spool file per process, ingested with the others by the query
    print(run.id)
"""


def test_a_tie_between_producers_of_other_processes_goes_to_the_later_logged(
    home: Path, tmp_path: Path
) -> None:
    """SPEC 3.3: same start, same end, the later logged wins. Each producer is a process of
    its own, so they reach the store as separate spool files, which one query ingests."""
    script = write_script(tmp_path, "tied.py", TIED_PRODUCER)
    for attempt in range(4):
        ids = [run_script(script, home, f"writer{attempt}_{index}").stdout.strip()
               for index in range(3)]
        reader = mltrace.ComponentRun(f"reader{attempt}")
        reader.set_start_timestamp(datetime(2026, 1, 1, 10 + attempt, tzinfo=timezone.utc))
        reader.set_end_timestamp(datetime(2026, 1, 1, 10 + attempt, 30, tzinfo=timezone.utc))
        reader.add_input("tied.csv")
        mltrace.log_component_run(reader, set_dependencies_from_inputs=False)
        found = mltrace.get_history(f"reader{attempt}")[0]
        assert found.dependencies == [ids[-1]], (attempt, ids)
        assert mltrace.trace("tied.csv")[0][1].id == ids[-1]
