"""A fan-out DAG for impact benchmarks, logged through the SDK (span links included).

One run reads ``ROOT``; each run of level ``k`` feeds ``fanouts[k]`` runs of level ``k + 1``
(run ``i`` of level ``k + 1`` reads ``imp-<k>-<i div fanout>`` and writes ``imp-<k+1>-<i>``).
Runs start one millisecond apart from ``START``, level by level, so every reader starts after
its producer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import mltrace_otel as mltrace

ROOT = "root.csv"
"""The input every run of the DAG depends on."""

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def log_fanout(fanouts: Sequence[int] = (9, 10, 10, 10)) -> int:
    """Log the DAG (1 root run, then levels of ``fanouts``); returns how many runs."""
    count, total = 1, 0
    for level, fanout in enumerate([1, *fanouts]):
        count = count * fanout if level else 1
        for index in range(count):
            start = START + timedelta(milliseconds=total + index)
            run = mltrace.ComponentRun(f"impact{level}")
            run.set_start_timestamp(start)
            run.add_input(ROOT if level == 0 else f"imp-{level - 1}-{index // fanout}")
            run.add_output(f"imp-{level}-{index}")
            run.set_end_timestamp(start + timedelta(microseconds=500))
            mltrace.log_component_run(run)
        total += count
    mltrace.flush()
    return total
