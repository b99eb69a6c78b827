"""review with 1,000 flagged outputs over 10^6 stored runs, and impact of a root input with
10^4 downstream runs, in a warm process (median of --samples calls after a warm-up).

The 10^6 runs are chains of 10 stages (bench/_synthetic.py); the flagged outputs are the
final outputs of random chains, flagged through the API. The impact DAG (bench/_fanout.py,
1 + 9 + 90 + 900 + 9,000 runs) is added to the same store.

    python bench/bench_review.py [--runs 1000000] [--flagged 1000] [--samples 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fanout import ROOT, fill_fanout
from _synthetic import DEPTH, chain_output, fill
from _table import markdown_table

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.lineage import dependencies


def timed(call: Callable[[], Any], samples: int) -> tuple[float, Any]:
    """Median seconds of ``samples`` calls after one warm-up call, and the last result."""
    result = call()
    durations = []
    for _ in range(samples):
        start = time.perf_counter()
        result = call()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--flagged", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    mltrace.configure(home=Path(tempfile.mkdtemp(prefix="mltrace-bench-review-")))
    store = state.store()
    fill(store, args.runs)
    downstream = fill_fanout(store)
    for chain in random.Random(7).sample(range(args.runs // DEPTH), args.flagged):
        mltrace.flag_output_id(chain_output(chain))
    stored = args.runs + downstream

    rows = []
    seconds, (flagged, ranked) = timed(mltrace.review_flagged_outputs, args.samples)
    assert len(flagged) == args.flagged and len(ranked) == args.flagged * DEPTH
    rows.append(("review_flagged_outputs() (every run, as mltrace)", seconds, 2.0))
    for sort in ("score", "coverage"):
        seconds, result = timed(lambda sort=sort: mltrace.review(limit=10, sort=sort), args.samples)
        assert len(result.suspects) == 10
        rows.append((f"review(limit=10, sort={sort!r})", seconds, 2.0))
    seconds, result = timed(lambda: mltrace.impact(ROOT), args.samples)
    assert len(result.runs) == downstream and result.count == downstream * 9 // 10
    rows.append((f"impact({ROOT!r}): {len(result.runs):,} runs", seconds, 1.0))

    print(f"{stored:,} stored runs, {args.flagged:,} flagged outputs, lineage index "
          f"{dependencies.INDEX_MODE!r}; warm median of {args.samples}\n")
    print(markdown_table(
        ["operation", "warm s", "target s", "met"],
        [(name, f"{value:.2f}", f"{target:.0f}", "yes" if value <= target else "no")
         for name, value, target in rows],
    ))


if __name__ == "__main__":
    main()
