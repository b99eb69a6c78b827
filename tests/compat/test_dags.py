"""The original's DAG tests as behaviour here: chains, re-runs, trees, cycles and staleness,
logged with explicit runs (``ComponentRun`` + ``log_component_run``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import mltrace_otel as mltrace

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def log(component: str, inputs: list[str], outputs: list[str], start: datetime) -> str:
    run = mltrace.ComponentRun(component, start_timestamp=start, end_timestamp=start)
    run.add_inputs(inputs)
    run.add_outputs(outputs)
    mltrace.log_component_run(run)
    assert run.id is not None
    return run.id


def levels(output_id: str) -> list[tuple[int, str]]:
    return [(level, run.id) for level, run in mltrace.backtrace(output_id)]


def test_linked_list(home: Path) -> None:
    ids = [
        log(f"mock_component_{i}", [f"iop_{i}"], [f"iop_{i + 1}"], T0 + timedelta(seconds=i))
        for i in range(1, 11)
    ]
    assert levels("iop_11") == [(10 - i, ids[i - 1]) for i in range(10, 0, -1)]


def test_versioned_computation_traces_only_the_latest_run(home: Path) -> None:
    ids = [log("mock_component", ["inp"], ["out"], T0 + timedelta(seconds=i)) for i in range(10)]
    assert levels("out") == [(0, ids[-1])]


def test_tree(home: Path) -> None:
    root = log("mock_component_1", ["iop_1"], ["iop_2", "iop_3"], T0)
    log("mock_component_2", ["iop_2"], ["iop_4", "iop_5"], T0 + timedelta(seconds=1))
    right = log("mock_component_3", ["iop_3"], ["iop_6", "iop_7"], T0 + timedelta(seconds=2))
    assert levels("iop_7") == [(0, right), (1, root)]


def test_cycle_of_names_is_versioned_by_time(home: Path) -> None:
    first = log("component_1", ["iop1"], ["iop2"], T0)
    second = log("component_2", ["iop2"], ["iop1"], T0 + timedelta(seconds=1))
    assert levels("iop1") == [(0, second), (1, first)]
    assert levels("iop2") == [(0, first)]


def test_stale_update(home: Path) -> None:
    first = log("component_1", ["iop1"], ["iop2"], T0)
    log("component_1", ["iop1"], ["iop3"], T0 + timedelta(seconds=1))
    third = log("component_2", ["iop2"], ["iop4"], T0 + timedelta(seconds=2))
    trace = [(level, run.id, run.stale) for level, run in mltrace.backtrace("iop4")]
    assert trace == [
        (0, third, [
            f"component_1 (ID {first}) has 1 fresher run that began before this component "
            "run started."
        ]),
        (1, first, []),
    ]


def test_stale_time(home: Path) -> None:
    first = log("component_1", ["iop1"], ["iop2"], T0 - timedelta(days=61))
    second = log("component_2", ["iop2"], ["iop3"], T0)
    trace = [(level, run.id, run.stale) for level, run in mltrace.backtrace("iop3")]
    assert trace == [
        (0, second, [f"component_1 (ID {first}) was run 61 days ago."]),
        (1, first, []),
    ]
