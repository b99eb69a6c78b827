"""Spool -> store ingest rate: runs logged through the SDK into spool files, then timed
while the querying process inserts them into the embedded store.

    python bench/bench_ingest.py [--runs 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import markdown_table

import mltrace_otel as mltrace
from mltrace_otel import state


def log_runs(runs: int) -> None:
    """Log ``runs`` component runs (a two-stage chain) into the spool, untimed."""
    for index in range(runs // 2):
        for stage, inputs, outputs in (
            ("featurize", [f"raw-{index}.csv"], [f"features-{index}.parquet"]),
            ("predict", [f"features-{index}.parquet", "model.pkl"], [f"prediction-{index}"]),
        ):
            run = mltrace.ComponentRun(stage)
            run.set_start_timestamp()
            run.add_inputs(inputs)
            run.add_outputs(outputs)
            run.set_end_timestamp()
            mltrace.log_component_run(run)
    mltrace.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mltrace-bench-"))
    mltrace.configure(home=home)
    store = state.store()
    store.query("SELECT 1")  # open the store and create the schema, untimed
    log_runs(args.runs)
    files = len(list((home / "spool").glob("*.arrow")))
    size = sum(path.stat().st_size for path in (home / "spool").glob("*.arrow"))
    start = time.perf_counter()
    store.ingest()
    elapsed = time.perf_counter() - start
    stored = store.query("SELECT count() FROM mltrace_runs").rows[0][0]
    assert stored == args.runs, f"stored {stored} of {args.runs} runs"
    rows = [
        (
            f"{args.runs:,}", files, f"{size / 1e6:.1f}", f"{elapsed:.2f}",
            f"{args.runs / elapsed:,.0f}",
        )
    ]
    print("Spool -> embedded store ingest (otel_traces + materialized views)\n")
    print(markdown_table(["runs", "spool files", "MB", "seconds", "runs/s"], rows))
    print(f"\ntarget: >= 100,000 runs/s -> {args.runs / elapsed:,.0f} runs/s")


if __name__ == "__main__":
    main()
