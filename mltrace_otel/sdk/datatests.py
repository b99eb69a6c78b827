"""Data tests and triggers around a component run (SPEC 3.2).

``beforeTests``/``beforeTriggers`` get the decorated function's arguments by name,
``afterTests``/``afterTriggers`` its local variables at return. A test or trigger takes the
names it needs as parameters; a parameter with a default may be missing. Each outcome is
recorded on the run as a span event. A failing test fails the run (status ERROR) and raises
``DataTestError`` after the run is logged; a failing trigger is only recorded. A phase's
triggers run once its tests passed.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mltrace_otel import semconv
from mltrace_otel.sdk.run import ComponentRun, SpanEvent

logger = logging.getLogger("mltrace_otel")

_WHERE = {
    "before": "an argument of {function}",
    "after": "a local variable of {function} when it returns",
}


class Test:
    """Base class of data tests: every method whose name starts with ``test`` runs.

    Give ``Component(beforeTests=[...], afterTests=[...])`` subclasses or instances.
    """

    def __init__(self, name: str = "") -> None:
        self.name = name or type(self).__name__

    def getTestMethods(self) -> list[Callable[..., Any]]:
        """The bound ``test*`` methods, by name."""
        return [
            getattr(self, name)
            for name in sorted(dir(self))
            if name.startswith("test") and callable(getattr(self, name))
        ]

    def runTests(self, **kwargs: Any) -> dict[str, Any]:
        """Run every test method with the keyword arguments it names; returns their results."""
        return {method.__name__: call_by_name(method, kwargs) for method in self.getTestMethods()}

    # mltrace's assertion helpers: each raises AssertionError (a failed test) with ``msg``.
    def assertTrue(self, a: Any, msg: str | None = None) -> None:
        if not a:
            raise AssertionError(msg or f"{a!r} is not true")

    def assertFalse(self, a: Any, msg: str | None = None) -> None:
        if a:
            raise AssertionError(msg or f"{a!r} is not false")

    def assertEqual(self, a: Any, b: Any, msg: str | None = None) -> None:
        if not a == b:
            raise AssertionError(msg or f"{a!r} != {b!r}")

    def assertNotEqual(self, a: Any, b: Any, msg: str | None = None) -> None:
        if not a != b:
            raise AssertionError(msg or f"{a!r} == {b!r}")

    def assertGreater(self, a: Any, b: Any, msg: str | None = None) -> None:
        if not a > b:
            raise AssertionError(msg or f"{a!r} is not greater than {b!r}")

    def assertGreaterEqual(self, a: Any, b: Any, msg: str | None = None) -> None:
        if not a >= b:
            raise AssertionError(msg or f"{a!r} is not greater than or equal to {b!r}")

    def assertLess(self, a: Any, b: Any, msg: str | None = None) -> None:
        if not a < b:
            raise AssertionError(msg or f"{a!r} is not less than {b!r}")

    def assertLessEqual(self, a: Any, b: Any, msg: str | None = None) -> None:
        if not a <= b:
            raise AssertionError(msg or f"{a!r} is not less than or equal to {b!r}")


class MissingArgumentError(TypeError):
    """A test or trigger names a parameter that is not available and has no default."""


class DataTestError(AssertionError):
    """Data tests failed; the run was logged with status ERROR and every outcome."""

    def __init__(self, component: str, failures: Sequence[Outcome]) -> None:
        self.component = component
        self.failures = list(failures)
        details = "; ".join(f"{item.name} ({item.phase}): {item.error}" for item in failures)
        super().__init__(f"data test failed in component {component!r}: {details}")


@dataclass(frozen=True)
class Outcome:
    """How one test method or trigger went."""

    name: str
    phase: str
    passed: bool
    duration: float
    error: str
    started_ns: int

    def event(self, event_name: str) -> SpanEvent:
        attributes = {
            semconv.TEST_NAME: self.name,
            semconv.TEST_PHASE: self.phase,
            semconv.TEST_PASSED: self.passed,
            semconv.TEST_DURATION: self.duration,
            semconv.TEST_ERROR: self.error,
        }
        return SpanEvent(event_name, attributes, self.started_ns)


def call_by_name(
    function: Callable[..., Any], available: Mapping[str, Any], where: str = "available"
) -> Any:
    """Call ``function`` with the values in ``available`` that its parameters name;
    ``where`` says where those values come from in the error for a missing one."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            kwargs.update((key, value) for key, value in available.items() if key not in kwargs)
        elif parameter.kind is parameter.VAR_POSITIONAL:
            continue
        elif name in available:
            if parameter.kind is parameter.POSITIONAL_ONLY:
                args.append(available[name])
            else:
                kwargs[name] = available[name]
        elif parameter.default is parameter.empty:
            raise MissingArgumentError(
                f"{_label(function)} needs argument {name!r}, which is not {where} "
                f"(available: {', '.join(sorted(available)) or 'none'})"
            )
    return function(*args, **kwargs)


def arguments(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The decorated function's arguments by name, defaults included."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return dict(kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def before(
    component: Any,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    run: ComponentRun | None,
    rename: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Run ``beforeTests`` then ``beforeTriggers``; raise ``DataTestError`` if a test failed.

    ``rename`` maps the arguments to the names tests take (mltrace's run(test=variable))."""
    if component.beforeTests or component.beforeTriggers:
        tests, triggers = component.beforeTests, component.beforeTriggers
        available = arguments(function, args, kwargs)
        if rename is not None:
            available = rename(available)
        _phase(component, function, "before", tests, triggers, available, run)


def after(
    component: Any,
    function: Callable[..., Any],
    local_variables: Mapping[str, Any],
    run: ComponentRun | None,
) -> None:
    """Run ``afterTests`` then ``afterTriggers``; raise ``DataTestError`` if a test failed."""
    if component.afterTests or component.afterTriggers:
        tests, triggers = component.afterTests, component.afterTriggers
        _phase(component, function, "after", tests, triggers, local_variables, run)


def _phase(
    component: Any,
    function: Callable[..., Any],
    phase: str,
    tests: Sequence[Any],
    triggers: Sequence[Callable[..., Any]],
    available: Mapping[str, Any],
    run: ComponentRun | None,
) -> None:
    where = _WHERE[phase].format(function=f"{_label(function)}()")
    outcomes = [
        _attempt(f"{type(test).__name__}.{method.__name__}", method, phase, available, where)
        for test in (item() if isinstance(item, type) else item for item in tests)
        for method in _test_methods(test)
    ]
    failures = [outcome for outcome in outcomes if not outcome.passed]
    _record(run, semconv.EVENT_TEST, outcomes)
    if failures:
        raise DataTestError(component.name, failures)
    triggered = [
        _attempt(_label(trigger), trigger, phase, available, where) for trigger in triggers
    ]
    for outcome in triggered:
        if not outcome.passed:
            logger.warning(
                "mltrace: trigger %s of %s failed: %s", outcome.name, component.name, outcome.error
            )
    _record(run, semconv.EVENT_TRIGGER, triggered)


def _test_methods(test: Any) -> list[Callable[..., Any]]:
    if isinstance(test, Test):
        return test.getTestMethods()
    return Test.getTestMethods(test)


def _attempt(
    name: str,
    function: Callable[..., Any],
    phase: str,
    available: Mapping[str, Any],
    where: str,
) -> Outcome:
    started_ns = time.time_ns()
    clock = time.perf_counter()
    try:
        call_by_name(function, available, where)
    except Exception as error:
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return Outcome(name, phase, False, time.perf_counter() - clock, message, started_ns)
    return Outcome(name, phase, True, time.perf_counter() - clock, "", started_ns)


def _record(run: ComponentRun | None, event_name: str, outcomes: Sequence[Outcome]) -> None:
    if run is not None:
        run.events.extend(outcome.event(event_name) for outcome in outcomes)


def _label(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)
