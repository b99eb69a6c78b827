"""Explicit component runs at chosen times, for the debugging-workflow tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import mltrace_otel as mltrace

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def log_run(
    component: str,
    day: float = 0.0,
    inputs: Sequence[str | mltrace.IOPointer] = (),
    outputs: Sequence[str | mltrace.IOPointer] = (),
    *,
    threshold: int | None = None,
    upstream: Sequence[str] = (),
    notes: str = "",
) -> str:
    """Log a run of ``component`` starting ``day`` days after T0 (lasting a minute); returns
    its run id."""
    start = T0 + timedelta(days=day)
    run = mltrace.ComponentRun(component)
    run.set_start_timestamp(start)
    run.set_end_timestamp(start + timedelta(minutes=1))
    run.add_inputs(list(inputs))
    run.add_outputs(list(outputs))
    run.git_hash = "0" * 40
    run.notes = notes
    if threshold is not None:
        run.staleness_threshold = threshold
    if upstream:
        run.set_upstream(list(upstream))
    mltrace.log_component_run(run)
    rows = mltrace.query(
        "SELECT SpanId FROM mltrace_runs WHERE Component = {component:String}"
        " AND StartTime = {start:DateTime64(9, 'UTC')}",
        {"component": component, "start": start},
    )
    assert len(rows) == 1, f"expected one run of {component} at {start}, found {rows}"
    return rows[0][0]
