"""Spool -> embedded store ingest rate, into an empty store and into stores that already
hold runs, beside the floor measured in the same run: a raw chDB insert of the same spool
files into a table with otel_traces' layout and no materialized views.

Runs are logged through the SDK into spool files (untimed; a two-stage chain, so half the
runs carry a span link); the stored runs are SDK-logged chains (bench/_sdk_store.py), whose
background merges are let finish before anything is timed. The store is closed while the
runs are logged (idle release): reopening it is timed on its own ("store open s"), the
ingest after it. The machine may be shared: compare the ratio to the floor.

Where the time goes (after ingesting into the empty store): each table the views fill is
written again from its own rows (``INSERT INTO copy SELECT * FROM table``, less the time to
read them) into a copy with the same layout and no views: the cost of storing what the
views produce, without computing it (a column the table computes itself, the run record, is
computed again, as on ingest). Beside it, the same files into otel_traces alone (the floor).

    python bench/bench_ingest.py                               # small smoke run
    python bench/bench_ingest.py --runs 100000 --stored 0 1000000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir
from _sdk_store import build, settle
from _table import markdown_table

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.store import Store, schema

TARGET_RUNS_PER_S = 150_000

_RAW_TABLE = "bench_raw_otel_traces"


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


def raw_insert_s(store: Store, files: Path) -> tuple[float, float]:
    """Wall and CPU seconds to insert the spool files into a view-less copy of otel_traces."""
    store.command(f"DROP TABLE IF EXISTS {_RAW_TABLE}")
    store.command(f"CREATE TABLE {_RAW_TABLE} AS otel_traces")
    columns = [row[0] for row in store.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = "
        "'otel_traces' ORDER BY position").rows]
    listed = ", ".join(f"`{name}`" for name in columns)
    elapsed = timed(
        store,
        f"INSERT INTO {_RAW_TABLE} ({listed}) SELECT {listed} FROM file({{path:String}}, 'Arrow')",
        {"path": f"{files}/*.arrow"},
    )
    store.command(f"DROP TABLE {_RAW_TABLE}")
    return elapsed


def timed(store: Store, sql: str, parameters: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and process CPU seconds (every thread, chDB's included) of one statement."""
    wall, cpu = time.perf_counter(), time.process_time()
    store.command(sql, parameters)
    return time.perf_counter() - wall, time.process_time() - cpu


def write_s(store: Store, table: str) -> tuple[float, float]:
    """Wall and CPU seconds to write ``table``'s rows again into a view-less copy of it, less
    the time to read them."""
    copy = f"bench_copy_{table}"
    store.command(f"DROP TABLE IF EXISTS {copy}")
    store.command(f"CREATE TABLE {copy} AS {table}")
    read = timed(store, f"SELECT * FROM {table} FORMAT Null")
    both = timed(store, f"INSERT INTO {copy} SETTINGS optimize_on_insert = 0 "
                        f"SELECT * FROM {table}")
    store.command(f"DROP TABLE {copy}")
    return both[0] - read[0], both[1] - read[1]


def breakdown(
    store: Store, ingest: tuple[float, float], floor: tuple[float, float]
) -> list[tuple[str, ...]]:
    """The where-the-time-goes table for a store that holds only the ingested batch."""
    writes = [(table, write_s(store, table)) for table in dict.fromkeys(schema.derived_tables())]
    total = tuple(sum(seconds[i] for _, seconds in writes) for i in (0, 1))
    rows = [("the whole ingest: otel_traces and its views", ingest),
            ("floor: the same files into otel_traces alone", floor)]
    rows += [(f"writing the rows of {table} alone", seconds) for table, seconds in writes]
    rest = ingest[1] - floor[1] - total[1]
    rows += [("floor + writing the rows of every view", (floor[0] + total[0], floor[1] + total[1])),
             ("the rest: the views' SELECTs and running them (CPU)", ("-", rest))]
    return [
        (name, wall if isinstance(wall, str) else f"{wall:.2f}", f"{cpu:.2f}",
         f"{cpu / floor[1]:.2f}x")
        for name, (wall, cpu) in rows
    ]


def measure(runs: int, stored: int) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    home = scratch_dir("ingest")
    mltrace.configure(home=home)
    store = state.store()
    store.query("SELECT 1")  # open the store and create the schema, untimed
    built = f"{build(store, stored):.0f} + {settle(store):.0f}" if stored else "-"
    before = store.query("SELECT count() FROM mltrace_runs").rows[0][0]
    log_runs(runs)
    spool = home / "spool"
    copies = home / "bench-copies"
    copies.mkdir()
    files = sorted(spool.rglob("*.arrow"))
    for index, path in enumerate(files):
        shutil.copy(path, copies / f"{index:06d}.arrow")
    size = sum(path.stat().st_size for path in files)
    start = time.perf_counter()
    store.init_db()  # reopen after the idle release while logging, without ingesting
    opened, cpu = time.perf_counter(), time.process_time()
    store.ingest()
    elapsed = time.perf_counter() - opened
    ingest = elapsed, time.process_time() - cpu
    after = store.query("SELECT count() FROM mltrace_runs").rows[0][0]
    assert after - before == runs, f"ingested {after - before} of {runs} runs"
    floor = raw_insert_s(store, copies)
    rate = runs / elapsed
    parts = breakdown(store, ingest, floor) if not stored else []
    return (
        f"{stored:,}", built, f"{runs:,}", str(len(files)), f"{size / 1e6:.1f}",
        f"{opened - start:.2f}", f"{elapsed:.2f}", f"{rate:,.0f}", f"{runs / floor[0]:,.0f}",
        f"{elapsed / floor[0]:.1f}x",
        "met" if rate >= TARGET_RUNS_PER_S else "missed",
    ), parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--stored", type=int, nargs="+", default=[0, 10_000])
    args = parser.parse_args()
    measured = [measure(args.runs, stored) for stored in args.stored]
    rows = [row for row, _ in measured]
    print("Spool -> embedded store ingest (otel_traces + materialized views) beside the floor "
          "(the same files into a view-less otel_traces copy)\n")
    print(markdown_table(
        ["runs already stored", "store built s + merging s", "runs ingested", "spool files", "MB",
         "store open s", "ingest s", "runs/s", "floor runs/s", "x floor",
         f"target >= {TARGET_RUNS_PER_S:,} runs/s"],
        rows,
    ))
    for parts in (parts for _, parts in measured if parts):
        print(f"\nWhere the time goes: {args.runs:,} runs into the empty store, seconds; the "
              f"target, {TARGET_RUNS_PER_S:,} runs/s, allows "
              f"{args.runs / TARGET_RUNS_PER_S:.2f} s\n")
        print(markdown_table(["part", "wall s", "CPU s", "CPU x floor"], parts))


if __name__ == "__main__":
    main()
