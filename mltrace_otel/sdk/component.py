"""Components and the ``@component.run`` decorator."""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, overload

from opentelemetry import trace

from mltrace_otel import state
from mltrace_otel.sdk import datatests
from mltrace_otel.sdk.pointers import IOPointer, pointers_from_value, unique
from mltrace_otel.sdk.run import DEFAULT_STALENESS_THRESHOLD, ComponentRun, emit

logger = logging.getLogger("mltrace_otel")

F = TypeVar("F", bound=Callable[..., Any])

current_run: contextvars.ContextVar[ComponentRun | None] = contextvars.ContextVar(
    "mltrace_current_run", default=None
)
"""The run of the decorated function executing in this context (for ``save``/``load``)."""

_AUTO_LOG_BYTES = 1 << 20


class Component:
    """A pipeline stage. Decorate its function with ``@component.run``; subclass freely.

    ``beforeTests``/``afterTests`` are data tests (``Test`` subclasses or instances) and
    ``beforeTriggers``/``afterTriggers`` callables, run before the function (given its
    arguments by name) and after it returns (given its locals by name).
    """

    def __init__(
        self,
        name: str,
        owner: str = "",
        description: str = "",
        tags: Sequence[str] | None = None,
        beforeTests: Sequence[Any] | None = None,
        afterTests: Sequence[Any] | None = None,
        beforeTriggers: Sequence[Callable[..., Any]] | None = None,
        afterTriggers: Sequence[Callable[..., Any]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a component needs a non-empty name")
        self.name = name
        self.owner = owner
        self.description = description
        self.tags = list(tags or [])
        self.beforeTests = list(beforeTests or [])
        self.afterTests = list(afterTests or [])
        self.beforeTriggers = list(beforeTriggers or [])
        self.afterTriggers = list(afterTriggers or [])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @overload
    def run(self, func: F) -> F: ...

    @overload
    def run(
        self,
        func: None = None,
        *,
        input_vars: Sequence[str] | None = None,
        output_vars: Sequence[str] | None = None,
        auto_log: bool = False,
        staleness_threshold: int = DEFAULT_STALENESS_THRESHOLD,
    ) -> Callable[[F], F]: ...

    def run(
        self,
        func: F | None = None,
        *,
        input_vars: Sequence[str] | None = None,
        output_vars: Sequence[str] | None = None,
        auto_log: bool = False,
        staleness_threshold: int = DEFAULT_STALENESS_THRESHOLD,
    ) -> F | Callable[[F], F]:
        """Log every call of the decorated function as a component run.

        ``input_vars``/``output_vars`` name local variables whose values at return are the
        run's inputs/outputs. Return values and exceptions are the caller's, untouched.
        """

        def decorate(function: F) -> F:
            recorder = _RunRecorder(
                self,
                function,
                list(input_vars or []),
                list(output_vars or []),
                auto_log,
                staleness_threshold,
            )

            @functools.wraps(function)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return recorder.call(args, kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate(func) if func is not None else decorate


class _RunRecorder:
    """Everything about one decorated function that does not change between calls."""

    def __init__(
        self,
        component: Component,
        function: Callable[..., Any],
        input_vars: list[str],
        output_vars: list[str],
        auto_log: bool,
        staleness_threshold: int,
    ) -> None:
        self.component = component
        self.function = function
        self.input_vars = input_vars
        self.output_vars = output_vars
        self.auto_log = auto_log
        self.staleness_threshold = staleness_threshold
        target = inspect.unwrap(function)
        self.code = getattr(target, "__code__", None)
        self.qualname = f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}"
        self.file = self.code.co_filename if self.code else ""
        self._snapshot: bytes | None = None

    @property
    def snapshot(self) -> bytes:
        if self._snapshot is None:
            try:
                self._snapshot = inspect.getsource(inspect.unwrap(self.function)).encode()
            except (OSError, TypeError):
                self._snapshot = b""
        return self._snapshot

    def needs_locals(self) -> bool:
        component = self.component
        return bool(
            self.input_vars
            or self.output_vars
            or self.auto_log
            or component.afterTests
            or component.afterTriggers
        )

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        run, span, token = self._begin()
        captured: dict[str, Any] = {}
        try:
            datatests.before(self.component, self.function, args, kwargs, run)
            if self.needs_locals() and self.code is not None:
                result = _call_capturing_locals(self.function, self.code, args, kwargs, captured)
            else:
                result = self.function(*args, **kwargs)
            datatests.after(self.component, self.function, captured, run)
        except BaseException as error:
            self._finish(run, span, token, args, kwargs, captured, error)
            raise
        missing = self._finish(run, span, token, args, kwargs, captured, None)
        if missing is not None:
            raise missing
        return result

    def _begin(self) -> tuple[ComponentRun | None, Any, contextvars.Token[Any] | None]:
        try:
            component = self.component
            run = ComponentRun(
                component.name,
                owner=component.owner,
                description=component.description,
                tags=tuple(component.tags),
            )
            run.start_ns = time.time_ns()
            run.staleness_threshold = self.staleness_threshold
            run.code_function = self.qualname
            run.code_file = self.file
            span = state.tracing().tracer.start_span(component.name, start_time=run.start_ns)
            span_token = trace.context_api.attach(trace.set_span_in_context(span))
            run_token = current_run.set(run)
            return run, (span, span_token), run_token
        except Exception as error:  # tracing must never break the pipeline
            logger.warning("mltrace: could not start run of %s: %s", self.component.name, error)
            return None, None, None

    def _finish(
        self,
        run: ComponentRun | None,
        span: Any,
        token: contextvars.Token[Any] | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        captured: dict[str, Any],
        error: BaseException | None,
    ) -> ValueError | None:
        """Log the run; return the ValueError to raise for a missing variable, if any."""
        if run is None:
            return None
        missing: ValueError | None = None
        try:
            current_run.reset(token)  # type: ignore[arg-type]
            live_span, span_token = span
            trace.context_api.detach(span_token)
            run.end_ns = time.time_ns()
            run.code_snapshot = self.snapshot
            try:
                inputs = self._pointers(self.input_vars, captured, "input_vars")
                outputs = self._pointers(self.output_vars, captured, "output_vars")
            except ValueError as problem:
                missing, inputs, outputs = problem, [], []
                if error is None:
                    run.error = problem
            if self.auto_log:
                auto_inputs, auto_outputs = self._auto_log(args, kwargs, captured)
                inputs += auto_inputs
                outputs += auto_outputs
            run.inputs = unique([*inputs, *run.inputs])
            run.outputs = unique([*outputs, *run.outputs])
            if error is not None:
                run.error = error
            emit(run, live_span)
        except Exception as problem:  # tracing must never break the pipeline
            logger.warning("mltrace: could not log run of %s: %s", run.component_name, problem)
        return missing

    def _pointers(
        self, names: list[str], captured: dict[str, Any], argument: str
    ) -> list[IOPointer]:
        pointers: list[IOPointer] = []
        save_dir = state.settings().save_dir
        for name in names:
            if name not in captured:
                raise ValueError(
                    f"{argument} names {name!r}, which is not a local variable of "
                    f"{self.qualname} when it returns"
                )
            pointers.extend(pointers_from_value(captured[name], save_dir))
        return pointers

    def _auto_log(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], captured: dict[str, Any]
    ) -> tuple[list[IOPointer], list[IOPointer]]:
        arguments = datatests.arguments(self.function, args, kwargs)
        save_dir = state.settings().save_dir
        inputs = [
            pointer
            for name, value in arguments.items()
            if _worth_logging(name, value)
            for pointer in pointers_from_value(value, save_dir)
        ]
        outputs = [
            pointer
            for name, value in captured.items()
            if name not in arguments and _worth_logging(name, value)
            for pointer in pointers_from_value(value, save_dir)
        ]
        return inputs, outputs


def _call_capturing_locals(
    function: Callable[..., Any],
    code: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    captured: dict[str, Any],
) -> Any:
    """Call ``function`` and copy its frame's locals into ``captured`` when it returns."""
    frames: list[Any] = []

    def profiler(frame: Any, event: str, _arg: Any) -> None:
        if event == "call":
            if not frames and frame.f_code is code:
                frames.append(frame)
        elif event == "return" and frames and frame is frames[0]:
            captured.update(frame.f_locals)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        return function(*args, **kwargs)
    finally:
        sys.setprofile(previous)


def _worth_logging(name: str, value: Any) -> bool:
    """auto_log's rule: data frames, arrays, models, data/model names, or over 1 MB."""
    lowered = name.lower()
    if "data" in lowered or "model" in lowered:
        return True
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if kind.__name__ in ("DataFrame", "Series", "ndarray", "Tensor") or module in (
        "sklearn", "xgboost", "lightgbm", "torch", "keras", "tensorflow",
    ):
        return True
    if callable(getattr(value, "fit", None)) and callable(getattr(value, "predict", None)):
        return True
    try:
        return sys.getsizeof(value) > _AUTO_LOG_BYTES
    except TypeError:
        return False


def register(
    component_name: str,
    input_vars: Iterable[str] | None = None,
    output_vars: Iterable[str] | None = None,
    **options: Any,
) -> Callable[[F], F]:
    """Decorator form of mltrace's ``register``: ``Component(component_name).run(...)``."""
    component = Component(
        component_name,
        owner=options.pop("owner", ""),
        description=options.pop("description", ""),
        tags=options.pop("tags", None),
    )
    return component.run(
        input_vars=list(input_vars or []), output_vars=list(output_vars or []), **options
    )
