"""Data tests and triggers (SPEC 3.2): bound by name, recorded as span events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mltrace_otel as mltrace
from mltrace_otel import semconv


class RowsTest(mltrace.Test):
    def testNotEmpty(self, rows: list[int]) -> None:
        assert rows, "no rows"

    def testSmall(self, rows: list[int], limit: int = 5) -> None:
        assert len(rows) <= limit, f"{len(rows)} rows > {limit}"

    def helper(self) -> None:  # not a test: never run
        raise AssertionError("helper ran")


class TotalTest(mltrace.Test):
    def testPositive(self, total: int) -> None:
        assert total > 0, f"total is {total}"


def only_run(component: str) -> mltrace.Run:
    (run,) = mltrace.get_history(component)
    return run


def outcomes(results: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    return [(result["name"], result["phase"], result["passed"]) for result in results]


def test_passing_tests_are_recorded(home: Path) -> None:
    component = mltrace.Component("clean", beforeTests=[RowsTest], afterTests=[TotalTest()])

    @component.run
    def clean(rows: list[int], limit: int = 10) -> int:
        total = sum(rows)
        return total

    assert clean([1, 2]) == 3
    run = only_run("clean")
    assert run.status == "OK"
    assert outcomes(run.test_results) == [
        ("RowsTest.testNotEmpty", "before", True),
        ("RowsTest.testSmall", "before", True),
        ("TotalTest.testPositive", "after", True),
    ]
    assert all(result["duration"] >= 0 and result["error"] == "" for result in run.test_results)


def test_before_tests_get_arguments_with_defaults(home: Path) -> None:
    """The function's own default counts as an argument; the test's default fills a gap."""
    component = mltrace.Component("load", beforeTests=[RowsTest])

    @component.run
    def load(rows: list[int], limit: int = 2) -> None:
        pass

    with pytest.raises(mltrace.DataTestError, match=r"RowsTest.testSmall \(before\).*3 rows > 2"):
        load([1, 2, 3])

    other = mltrace.Component("load2", beforeTests=[RowsTest])

    @other.run
    def load2(rows: list[int]) -> None:
        pass

    load2([1, 2, 3])  # RowsTest.testSmall's own default limit=5 applies
    assert only_run("load2").status == "OK"


def test_failing_before_test_stops_the_run_and_fails_it(home: Path) -> None:
    calls = []
    component = mltrace.Component("clean", beforeTests=[RowsTest()])

    @component.run
    def clean(rows: list[int]) -> None:
        calls.append(rows)

    with pytest.raises(mltrace.DataTestError) as raised:
        clean([])
    assert calls == []
    assert "RowsTest.testNotEmpty (before): AssertionError: no rows" in str(raised.value)
    assert [failure.name for failure in raised.value.failures] == ["RowsTest.testNotEmpty"]
    run = only_run("clean")
    assert run.status == "ERROR"
    assert "DataTestError" in run.status_message
    assert outcomes(run.test_results) == [
        ("RowsTest.testNotEmpty", "before", False),
        ("RowsTest.testSmall", "before", True),
    ]
    assert run.test_results[0]["error"].startswith("AssertionError: no rows")


def test_failing_after_test_fails_the_run(home: Path) -> None:
    component = mltrace.Component("sum", afterTests=[TotalTest])

    @component.run(output_vars=["name"])
    def add(rows: list[int]) -> int:
        total = sum(rows)
        name = "total.txt"  # noqa: F841 (logged through output_vars)
        return total

    with pytest.raises(mltrace.DataTestError, match="total is -1"):
        add([-1])
    run = only_run("sum")
    assert run.status == "ERROR"
    assert run.outputs == ["total.txt"]
    assert outcomes(run.test_results) == [("TotalTest.testPositive", "after", False)]


def test_missing_argument_names_it(home: Path) -> None:
    component = mltrace.Component("train", beforeTests=[TotalTest])

    @component.run
    def train(data: list[int]) -> None:
        pass

    with pytest.raises(mltrace.DataTestError, match="needs argument 'total'") as raised:
        train([1])
    assert "which is not an argument of" in str(raised.value)
    assert "(available: data)" in str(raised.value)
    assert "MissingArgumentError" in only_run("train").test_results[0]["error"]


def test_after_tests_get_locals_not_only_arguments(home: Path) -> None:
    component = mltrace.Component("train", afterTests=[TotalTest])

    @component.run
    def train(rows: list[int]) -> str:
        total = len(rows)  # noqa: F841 (the after-test reads it)
        return "ok"

    assert train([5]) == "ok"
    assert only_run("train").test_results[0]["passed"] is True


def test_user_exception_skips_after_phase(home: Path) -> None:
    seen = []
    component = mltrace.Component("boom", afterTests=[TotalTest], afterTriggers=[seen.append])

    @component.run
    def boom() -> None:
        total = 1  # noqa: F841 (an after-test would see it)
        raise KeyError("original")

    with pytest.raises(KeyError, match="original"):
        boom()
    run = only_run("boom")
    assert run.status == "ERROR" and run.test_results == [] and seen == []


def test_triggers_run_with_the_same_rules_and_never_fail_the_run(home: Path) -> None:
    started: list[list[int]] = []
    finished: list[int] = []

    def broken(missing: int) -> None:
        raise AssertionError("never called")

    def crash(total: int) -> None:
        raise RuntimeError("pager down")

    component = mltrace.Component(
        "report",
        beforeTriggers=[lambda rows: started.append(rows)],
        afterTriggers=[lambda value: finished.append(value), broken, crash],
    )

    @component.run
    def report(rows: list[int]) -> int:
        total = sum(rows)
        return total

    assert report([2, 3]) == 5
    assert started == [[2, 3]]
    run = only_run("report")
    assert run.status == "OK"
    results = run.trigger_results
    assert [(result["phase"], result["passed"]) for result in results] == [
        ("before", True), ("after", False), ("after", False), ("after", False),
    ]
    assert "needs argument 'value'" in results[1]["error"]
    assert "not a local variable of" in results[1]["error"]
    assert "needs argument 'missing'" in results[2]["error"]
    assert results[3]["error"] == "RuntimeError: pager down"
    assert finished == []


def test_triggers_are_skipped_when_tests_fail(home: Path) -> None:
    fired = []
    component = mltrace.Component("gate", beforeTests=[RowsTest], beforeTriggers=[fired.append])

    @component.run
    def gate(rows: list[int]) -> None:
        pass

    with pytest.raises(mltrace.DataTestError):
        gate([])
    assert fired == [] and only_run("gate").trigger_results == []


def test_outcomes_are_span_events(home: Path) -> None:
    component = mltrace.Component("clean", beforeTests=[RowsTest], afterTriggers=[print])

    @component.run
    def clean(rows: list[int]) -> None:
        pass

    clean([1])
    ((names, attributes),) = mltrace.query(
        "SELECT `Events.Name`, `Events.Attributes` FROM otel_traces WHERE SpanName = 'clean'"
    )
    assert names == [semconv.EVENT_TEST, semconv.EVENT_TEST, semconv.EVENT_TRIGGER]
    assert attributes[0][semconv.TEST_NAME] == "RowsTest.testNotEmpty"
    assert attributes[0][semconv.TEST_PHASE] == "before"
    assert attributes[0][semconv.TEST_PASSED] == "true"
    assert float(attributes[0][semconv.TEST_DURATION]) >= 0
    assert attributes[2][semconv.TEST_NAME] == "print"


def test_mltrace_style_run_tests() -> None:
    assert RowsTest("rows").runTests(rows=[1], unused=True) == {
        "testNotEmpty": None, "testSmall": None,
    }
    assert RowsTest("rows").name == "rows" and TotalTest().name == "TotalTest"


def test_another_sdks_unreadable_test_duration_costs_no_query(home: Path) -> None:
    """A test event whose duration is text ("12ms") reads as 0 s; the run and every listing
    that includes it still load (docs/conventions.md: one run never costs its neighbours)."""
    from mltrace_otel import state

    state.store().command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName,"
        " SpanAttributes, Duration, StatusCode, `Events.Timestamp`, `Events.Name`,"
        " `Events.Attributes`) VALUES (now64(9), 'ab', 'abcdef0123456789', 'foreign', 'other',"
        " {attributes:Map(String, String)}, 1000, 'Ok', [now64(9)], [{event:String}],"
        " [{event_attributes:Map(String, String)}])",
        {"attributes": {semconv.COMPONENT_NAME: "foreign", semconv.RUN_OUTPUTS: '["out.csv"]'},
         "event": semconv.EVENT_TEST,
         "event_attributes": {semconv.TEST_NAME: "Rows.testCount", semconv.TEST_PASSED: "true",
                              semconv.TEST_DURATION: "12ms"}},
    )
    assert mltrace.get_recent_run_ids() == ["abcdef0123456789"]
    run = mltrace.get_component_run_information("abcdef0123456789")
    assert [(result["name"], result["duration"]) for result in run.test_results] == [
        ("Rows.testCount", 0.0)]
    assert mltrace.get_stale_runs() == []
    assert [level for level, _ in mltrace.trace("out.csv")] == [0]
