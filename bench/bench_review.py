"""review over flagged outputs and impact of a root input, on runs logged through the SDK
(span links included), in a warm process (median of --samples calls after a warm-up).

The store holds chains of 10 stages (bench/_sdk_store.py: one chain logged through the SDK,
replicated in SQL with new ids) plus a fan-out DAG logged through the SDK (bench/_fanout.py);
the flagged outputs are final outputs of random chains, flagged through the API. Timing
starts once the store's background merges are done (a fresh 10^7-run store merges for
minutes, as a store in use does not). Beside each
figure, the floor measured in the same run: reading the same result runs with one query
(queries/runs.sql), which any answer that returns runs pays. The machine may be shared:
compare ratios, and CPU seconds (whole process, all threads) over wall seconds.

    python bench/bench_review.py                      # small smoke run
    python bench/bench_review.py --runs 1000000 --flagged 1000 --fanouts 9 10 10 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fanout import ROOT, log_fanout
from _scratch import scratch_dir
from _sdk_store import DEPTH, build, chain_output, settle
from _table import markdown_table

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.lineage import dependencies
from mltrace_otel.store import records
from mltrace_otel.store.bulk import gc_paused

REVIEW_TARGETS_S = {10_000_000: 2.0, 1_000_000: 1.0}
"""review_flagged_outputs() with 1,000 flagged outputs, by stored chain runs (at least)."""
IMPACT_TARGET_S = 0.5
"""impact reaching 10^4 runs."""


def timed(call: Callable[[], Any], samples: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``samples`` calls after one warm-up call."""
    result = call()
    walls, cpus = [], []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def read_runs(ids: Sequence[str]) -> Callable[[], Any]:
    """The floor: the runs ``ids`` in one query, their records decoded (with the cyclic
    collector paused, as review and impact run)."""
    store = state.store()
    return gc_paused(lambda: records.read(store, list(ids)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000, help="chain runs in the store")
    parser.add_argument("--flagged", type=int, default=100)
    parser.add_argument("--fanouts", type=int, nargs="+", default=[3, 3, 3, 3])
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    mltrace.configure(home=scratch_dir("review"))
    store = state.store()
    built = build(store, args.runs)
    start = time.perf_counter()
    downstream = log_fanout(args.fanouts)
    logged = time.perf_counter() - start
    for chain in random.Random(7).sample(range(args.runs // DEPTH), args.flagged):
        mltrace.flag_output_id(chain_output(chain))
    stored = store.query("SELECT count() FROM mltrace_runs").rows[0][0]
    settled = settle(store)
    goal = next((seconds for size, seconds in REVIEW_TARGETS_S.items() if args.runs >= size),
                None) if args.flagged >= 1_000 else None

    rows = []
    wall, cpu, (flagged, ranked) = timed(mltrace.review_flagged_outputs, args.samples)
    assert len(flagged) == args.flagged and len(ranked) == args.flagged * DEPTH
    floor, _, _ = timed(read_runs([run.id for run, _ in ranked]), args.samples)
    target = f"<= {goal:g}" if goal else "(at 10^6, 1,000 flagged)"
    rows.append(("review_flagged_outputs()", wall, cpu, floor, target, goal))
    for sort in ("score", "coverage"):
        wall, cpu, result = timed(lambda sort=sort: mltrace.review(limit=10, sort=sort),
                                  args.samples)
        assert len(result.suspects) == 10
        floor, _, _ = timed(read_runs([item.run.id for item in result.suspects]), args.samples)
        rows.append((f"review(limit=10, sort={sort!r})", wall, cpu, floor, "-", None))
    wall, cpu, result = timed(lambda: mltrace.impact(ROOT), args.samples)
    assert len(result.runs) == downstream
    floor, _, _ = timed(read_runs([run.id for _, run in result.runs]), args.samples)
    reaches = downstream >= 10_000
    rows.append((f"impact({ROOT!r}): {len(result.runs):,} runs", wall, cpu, floor,
                 f"<= {IMPACT_TARGET_S:g}" if reaches else "(at 10^4 runs)",
                 IMPACT_TARGET_S if reaches else None))

    print(f"{stored:,} stored runs ({args.runs:,} in chains, built in {built:.1f} s; "
          f"{downstream:,} fan-out runs logged through the SDK in {logged:.1f} s; background "
          f"merges done {settled:.0f} s later, then measured), {args.flagged:,} flagged "
          f"outputs, lineage index {dependencies.INDEX_MODE!r}; warm median of "
          f"{args.samples}\n")
    print(markdown_table(
        ["operation", "wall s", "CPU s", "floor s (read the result runs)", "x floor",
         "target s", "met"],
        [(name, f"{wall:.3f}", f"{cpu:.3f}", f"{floor:.3f}", f"{wall / floor:.1f}", target,
          "-" if goal is None else ("met" if wall <= goal else "missed"))
         for name, wall, cpu, floor, target, goal in rows],
    ))


if __name__ == "__main__":
    main()
