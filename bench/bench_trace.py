"""trace latency for a depth-10 chain at 10^4, 10^5 and 10^6 stored runs, in a warm
process (a random chain each call) and as a fresh CLI process (`mltrace trace ID --json`).

Runs are written straight into otel_traces by SQL (bench/_synthetic.py) following the
semantic conventions, so the materialized views index them like runs from any SDK.

    python bench/bench_trace.py [--sizes 10000 100000 1000000] [--samples 50] [--cli-samples 5]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _synthetic import DEPTH, chain_output, fill
from _table import markdown_table, percentile

import mltrace_otel as mltrace
from mltrace_otel import state


def warm_latencies(chains: int, samples: int, read_stale: bool) -> list[float]:
    """Seconds per trace; with ``read_stale`` also reading every run's staleness."""
    mltrace.trace(chain_output(0))  # warm up
    latencies = []
    for _ in range(samples):
        output = chain_output(random.randrange(chains))
        start = time.perf_counter()
        levels = mltrace.trace(output)
        if read_stale:
            [run.stale for _, run in levels]
        latencies.append(time.perf_counter() - start)
        assert len(levels) == DEPTH, f"trace of {output} has {len(levels)} runs"
    return latencies


def cli_latencies(home: Path, chains: int, samples: int) -> list[float]:
    environment = {**os.environ, "MLTRACE_HOME": str(home)}
    latencies = []
    for _ in range(samples):
        output = chain_output(random.randrange(chains))
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mltrace_otel.cli", "trace", output, "--json"],
            env=environment, check=True, capture_output=True,
        )
        latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--cli-samples", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mltrace-bench-"))
    mltrace.configure(home=home)
    stored = 0
    rows = []
    for size in sorted(args.sizes):
        store = state.store()
        fill(store, size - stored, offset=stored)
        stored = size
        warm = warm_latencies(size // DEPTH, args.samples, read_stale=False)
        stale = warm_latencies(size // DEPTH, args.samples, read_stale=True)
        store.close()  # let the CLI processes open the store
        cli = cli_latencies(home, size // DEPTH, args.cli_samples)
        rows.append((
            f"{size:,}",
            f"{percentile(warm, 0.5) * 1e3:.1f}", f"{percentile(warm, 0.95) * 1e3:.1f}",
            f"{percentile(stale, 0.5) * 1e3:.1f}",
            f"{percentile(cli, 0.5) * 1e3:.0f}", f"{percentile(cli, 0.95) * 1e3:.0f}",
        ))
    print(f"trace of a depth-{DEPTH} chain ({args.samples} warm samples, "
          f"{args.cli_samples} CLI samples per size)\n")
    print(markdown_table(
        ["stored runs", "warm p50 ms", "warm p95 ms", "warm p50 ms reading .stale",
         "CLI p50 ms", "CLI p95 ms"],
        rows,
    ))
    print("\ntarget: warm p50 <= 50 ms at 10^6 runs")


if __name__ == "__main__":
    main()
