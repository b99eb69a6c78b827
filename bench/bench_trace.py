"""trace latency of a depth-10 chain of runs logged through the SDK (span links included),
in a warm process and as a fresh CLI process (`mltrace trace ID --json`), at growing store
sizes.

The store is one chain logged through the SDK, replicated in SQL with new ids
(bench/_sdk_store.py), so every row is what the SDK writes. Beside each figure, the floor
measured in the same run: for the warm trace, one store round trip (`SELECT 1`) and reading
the chain's 10 runs with one query (queries/runs.sql, which every trace pays); for the CLI,
`python -c "import chdb"`. Each size is timed once the store's background merges are done.
The machine may be shared: compare ratios to the floor.

    python bench/bench_trace.py                          # small smoke run (10^4 runs)
    python bench/bench_trace.py --sizes 10000 1000000    # add 10000000 if time allows
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cold import cold_ms
from _scratch import scratch_dir
from _sdk_store import DEPTH, chain_output, grow, log_template, settle
from _table import markdown_table, percentile

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.lineage import dependencies
from mltrace_otel.lineage.index import LineageIndex
from mltrace_otel.store import records

WARM_TARGETS_MS = {1_000_000: 50.0, 10_000_000: 100.0}
CLI_TARGET_MS = 500.0


def samples_ms(call: Callable[[], object], samples: int) -> list[float]:
    """Milliseconds of ``samples`` calls after two warm-up calls (the second builds the
    lineage index of an ``auto`` process)."""
    call()
    call()
    latencies = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - start) * 1e3)
    return latencies


def trace_random(chains: int, mode: str) -> Callable[[], None]:
    def call() -> None:
        dependencies.INDEX_MODE = mode
        output = chain_output(random.randrange(chains))
        levels = mltrace.trace(output)
        assert len(levels) == DEPTH, f"trace of {output} has {len(levels)} runs"

    return call


def read_chains(chains: int) -> Callable[[], None]:
    """The floor a trace cannot go under: one query reading a chain's 10 runs."""
    store = state.store()
    lineage = dependencies.Lineage(store)
    chosen = []
    for chain in random.sample(range(chains), min(chains, 10)):
        root = lineage.latest_producer(chain_output(chain))
        assert root is not None
        chosen.append(list(lineage.upstream_closure([root])))
    return lambda: records.read(store, random.choice(chosen))


def index_load_s() -> tuple[float, float]:
    """Wall and CPU seconds to load a fresh lineage index of the whole store."""
    store = state.store()
    wall, cpu = time.perf_counter(), time.process_time()
    LineageIndex().refresh(store, object())
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--cli-samples", type=int, default=3)
    args = parser.parse_args()
    home = scratch_dir("trace")
    mltrace.configure(home=home)
    store = state.store()
    template = log_template(store)
    chains = 1
    builds, rows, verdicts = [], [], []
    for size in sorted(args.sizes):
        start = time.perf_counter()
        grow(store, template, chains, size // DEPTH)
        grown = time.perf_counter() - start
        builds.append(f"{size:,} runs: +{grown:.1f} s, merges done {settle(store):.0f} s later")
        chains = size // DEPTH
        load_wall, load_cpu = index_load_s()
        warm = samples_ms(trace_random(chains, "auto"), args.samples)
        via_store = samples_ms(trace_random(chains, "off"), max(3, args.samples // 5))
        dependencies.INDEX_MODE = "auto"
        ping = samples_ms(lambda: store.query("SELECT 1"), args.samples)
        read = samples_ms(read_chains(chains), args.samples)
        store.close()  # let the CLI processes open the store
        cli = cold_ms(home, [sys.executable, "-m", "mltrace_otel.cli", "trace",
                            chain_output(random.randrange(chains)), "--json"], args.cli_samples)
        chdb = cold_ms(home, [sys.executable, "-c", "import chdb"], args.cli_samples)
        p50 = percentile(warm, 0.5)
        rows.append((
            f"{size:,}", f"{load_wall:.1f} / {load_cpu:.1f}",
            f"{p50:.1f}", f"{percentile(warm, 0.95):.1f}", f"{percentile(via_store, 0.5):.0f}",
            f"{percentile(ping, 0.5):.1f}", f"{percentile(read, 0.5):.1f}",
            f"{percentile(cli, 0.5):.0f}", f"{percentile(chdb, 0.5):.0f}",
        ))
        target = WARM_TARGETS_MS.get(size)
        if target is not None:
            verdicts.append(f"warm p50 <= {target:.0f} ms at {size:,}: {p50:.1f} ms -> "
                            f"{'met' if p50 <= target else 'missed'}")
        cli_p50 = percentile(cli, 0.5)
        verdicts.append(f"cold CLI p50 <= {CLI_TARGET_MS:.0f} ms at {size:,}: {cli_p50:.0f} ms "
                        f"-> {'met' if cli_p50 <= CLI_TARGET_MS else 'missed'}")
    print(f"trace of a depth-{DEPTH} chain of SDK-logged runs ({args.samples} warm samples, "
          f"{args.cli_samples} CLI samples per size); store built: {'; '.join(builds)}\n")
    print(markdown_table(
        ["stored runs", "index load s (wall / CPU)", "warm p50 ms", "warm p95 ms",
         "store path p50 ms (no index)", "floor: SELECT 1 ms", "floor: read 10 runs ms",
         "CLI p50 ms", "floor: import chdb ms"],
        rows,
    ))
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
