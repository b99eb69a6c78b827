"""Dashboard queries on a store of SDK-logged runs (bench/_sdk_store.py): seconds per panel
query against the Python API.

    python bench/bench_grafana.py [RUNS]   # default 100,000 runs in chains of 10

The Trace, Impact and Review panels walk lineage in one recursive SQL statement (see
README "Dashboards"); this prints how long that takes on the embedded store next to
``mltrace.trace`` / ``impact`` / ``review``, warm, median of 3.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent),
                str(Path(__file__).resolve().parent.parent / "tests")]

from _grafana_macros import Request, expand  # noqa: E402
from _scratch import scratch_dir  # noqa: E402
from _sdk_store import build, chain_output  # noqa: E402
from _table import markdown_table  # noqa: E402

import mltrace_otel as mltrace  # noqa: E402
from mltrace_otel import state  # noqa: E402
from mltrace_otel.store import sql  # noqa: E402

QUERIES = Path(__file__).resolve().parent.parent / "queries" / "grafana"


def median_seconds(call: Callable[[], object], repeat: int = 3) -> float:
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def panel(name: str, **variables: str) -> Callable[[], object]:
    request = Request(datetime(2025, 1, 1, tzinfo=timezone.utc),
                      datetime(2027, 1, 1, tzinfo=timezone.utc), timedelta(hours=1), variables)
    text = expand(sql.render((QUERIES / f"{name}.sql").read_text()), request)
    return lambda: mltrace.query(text)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    home = scratch_dir("grafana")
    mltrace.configure(backend="local", home=home)
    build(state.store(), runs)
    output = chain_output(runs // 20)
    for chain in range(10):
        mltrace.flag_output_id(chain_output(chain))
    rows = [
        ("trace table (trace_lineage)", panel("trace_lineage", output_id=output),
         lambda: mltrace.trace(output)),
        ("trace graph edges", panel("trace_edges", output_id=output), None),
        ("impact table (impact_runs)", panel("impact_runs", pointer="c7-s0"),
         lambda: mltrace.impact("c7-s0")),
        ("review suspects (10 flagged)", panel("review_suspects"),
         lambda: mltrace.review(limit=None)),
        ("latest runs with staleness", panel("overview_latest_runs"), None),
        ("runs per component", panel("overview_runs"), None),
    ]
    table = []
    for label, sql_call, python_call in rows:
        seconds = median_seconds(sql_call)
        python = f"{median_seconds(python_call):.3f}" if python_call else "-"
        table.append((label, f"{seconds:.3f}", python))
    print(f"{runs:,} runs (chains of 10), embedded store, warm, median of 3\n")
    print(markdown_table(["panel query", "SQL s", "Python API s"], table))


if __name__ == "__main__":
    main()
