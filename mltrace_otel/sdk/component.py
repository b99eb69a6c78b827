"""Components and the ``@component.run`` decorator."""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from opentelemetry import trace

from mltrace_otel import semconv, state
from mltrace_otel.sdk import datatests
from mltrace_otel.sdk.capture import UNCAPTURED, LocalsCapture
from mltrace_otel.sdk.once import OncePerKey
from mltrace_otel.sdk.pointers import IOPointer, PointerType, pointers_from_value
from mltrace_otel.sdk.run import ComponentMeta, ComponentRun, PointerArg, emit

logger = logging.getLogger("mltrace_otel")


class MissingVariableError(ValueError, RuntimeError):
    """``input_vars``/``output_vars`` name a variable the function does not have when it
    returns: a ValueError (SPEC 3.2, mltrace's client), also a RuntimeError (what early
    mltrace releases raised, and their tests expect)."""


_failures = OncePerKey()


def _report_failure(action: str, component: str, error: BaseException) -> None:
    """Warn that tracing failed for a run, once per distinct reason (a misconfiguration
    fails every run the same way)."""
    _failures.warn(f"{type(error).__name__}: {error}",
                   "mltrace: could not %s run of %s: %s (runs failing the same way are not "
                   "reported again)", action, component, error)
    state.count_lost_run()


F = TypeVar("F", bound=Callable[..., Any])

current_run: contextvars.ContextVar[ComponentRun | None] = contextvars.ContextVar(
    "mltrace_current_run", default=None
)
"""The run of the decorated function executing in this context (for ``save``/``load``)."""

_AUTO_LOG_BYTES = 1 << 20


class Component:
    """A pipeline stage. Decorate its function with ``@component.run``; subclass freely.

    Arguments in mltrace's positional order. ``beforeTests``/``afterTests`` are data tests
    (``Test`` subclasses or instances) and ``beforeTriggers``/``afterTriggers`` callables,
    run before the function (given its arguments by name) and after it returns (given its
    locals by name).
    """

    def __init__(
        self,
        name: str,
        owner: str = "",
        description: str = "",
        beforeTests: Sequence[Any] | None = None,
        afterTests: Sequence[Any] | None = None,
        tags: Sequence[str] | None = None,
        *,
        beforeTriggers: Sequence[Callable[..., Any]] | None = None,
        afterTriggers: Sequence[Callable[..., Any]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a component needs a non-empty name")
        if isinstance(tags, str):
            tags = [tags]
        self._name = name
        self._owner = owner
        self._description = description
        self._tags = list(tags or [])
        self._before_tests = list(beforeTests or [])
        self._after_tests = list(afterTests or [])
        self.beforeTriggers = list(beforeTriggers or [])
        self.afterTriggers = list(afterTriggers or [])

    # Read-only, as mltrace's: a changed owner or tag is a new ``Component`` (or
    # ``create_component``/``tag_component``), so runs logged so far keep what they had.
    @property
    def name(self) -> str:
        return self._name

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def description(self) -> str:
        return self._description

    @property
    def tags(self) -> list[str]:
        return self._tags

    @property
    def beforeTests(self) -> list[Any]:
        return self._before_tests

    @property
    def afterTests(self) -> list[Any]:
        return self._after_tests

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def beforeRun(self, **kwargs: Any) -> None:
        """mltrace's hook, called with the function's arguments by name before it runs (after
        ``beforeTests``); override it in a subclass. Does nothing by default."""

    def afterRun(self, **local_vars: Any) -> None:
        """mltrace's hook, called with the function's locals by name after it returns (after
        ``afterTests``); override it in a subclass. Does nothing by default."""

    def to_dictionary(self) -> dict[str, Any]:
        """mltrace's dictionary form of the component (its facts; the tests are classes)."""
        return {
            "name": self.name,
            "owner": self.owner,
            "description": self.description,
            "tags": list(self.tags),
        }

    @overload
    def run(self, input_vars: F) -> F: ...

    @overload
    def run(
        self,
        input_vars: Sequence[str] | None = None,
        output_vars: Sequence[str] | None = None,
        endpoint: bool = False,
        staleness_threshold: int = semconv.DEFAULT_STALENESS_THRESHOLD,
        auto_log: bool = False,
        **kwargs: Any,
    ) -> Callable[[F], F]: ...

    def run(
        self,
        input_vars: Sequence[str] | Callable[..., Any] | None = None,
        output_vars: Sequence[str] | None = None,
        endpoint: bool = False,
        staleness_threshold: int = semconv.DEFAULT_STALENESS_THRESHOLD,
        auto_log: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Log every call of the decorated function as a component run.

        ``input_vars``/``output_vars`` name local variables whose values at return are the
        run's inputs/outputs; ``endpoint=True`` marks the outputs as endpoints. mltrace's
        keywords ``input_filenames``/``output_filenames`` (variables holding names),
        ``input_kwargs``/``output_kwargs`` (``{name_variable: value_variable}``) and
        ``skip_before``/``skip_after`` work as there; any other keyword renames a test
        argument as in mltrace (``test_name="variable"``) and is otherwise ignored, with a
        warning. Return values and exceptions are the caller's, untouched.
        """
        if callable(input_vars) and not isinstance(input_vars, (str, list, tuple)):
            return self.run()(input_vars)
        if not isinstance(endpoint, bool):
            raise TypeError(
                "endpoint must be a bool: mltrace's third positional argument of run() is "
                "input_vars in some versions; pass input_vars=/output_vars= by keyword"
            )
        spec = _IOSpec.build(input_vars, output_vars, endpoint, kwargs, self.name)
        return self._decorator(spec, auto_log, staleness_threshold)

    def _decorator(
        self, spec: _IOSpec, auto_log: bool, staleness_threshold: int
    ) -> Callable[[F], F]:
        def decorate(function: F) -> F:
            recorder = _RunRecorder(self, function, spec, auto_log, staleness_threshold)

            @functools.wraps(function)
            def wrapper(*args: Any, **call_kwargs: Any) -> Any:
                return recorder.call(args, call_kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate


_STR_NAMES = "names"
_VALUES = "values"


@dataclasses.dataclass(frozen=True)
class _IOSpec:
    """Which local variables become inputs and outputs, and how (fixed per decorator)."""

    inputs: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]
    input_pairs: tuple[tuple[str, str], ...] = ()
    output_pairs: tuple[tuple[str, str], ...] = ()
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    endpoint: bool = False
    renames: tuple[tuple[str, str], ...] = ()
    skip_before: bool = False
    skip_after: bool = False

    @classmethod
    def build(
        cls,
        input_vars: Sequence[str] | None,
        output_vars: Sequence[str] | None,
        endpoint: bool,
        options: dict[str, Any],
        component: str,
        input_names: Sequence[str] = (),
        output_names: Sequence[str] = (),
    ) -> _IOSpec:
        options = dict(options)
        inputs = [(name, _VALUES) for name in _names(input_vars)]
        outputs = [(name, _VALUES) for name in _names(output_vars)]
        inputs += [(name, _STR_NAMES) for name in _names(options.pop("input_filenames", None))]
        outputs += [(name, _STR_NAMES) for name in _names(options.pop("output_filenames", None))]
        input_pairs = tuple(dict(options.pop("input_kwargs", None) or {}).items())
        output_pairs = tuple(dict(options.pop("output_kwargs", None) or {}).items())
        skip_before = bool(options.pop("skip_before", False))
        skip_after = bool(options.pop("skip_after", False))
        renames = []
        for key, value in options.items():
            if isinstance(value, str):
                renames.append((value, key))
            logger.warning(
                "mltrace: %s.run() got keyword %s=%r, which mltrace only used to rename a "
                "test argument (%r is given to tests as %r); it has no other effect",
                component, key, value, value, key,
            )
        return cls(
            tuple(inputs), tuple(outputs), input_pairs, output_pairs,
            tuple(input_names), tuple(output_names), endpoint, tuple(renames),
            skip_before, skip_after,
        )

    def needs_locals(self) -> bool:
        return bool(self.inputs or self.outputs or self.input_pairs or self.output_pairs)


def _names(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(name) for name in value]


class _RunRecorder:
    """Everything about one decorated function that does not change between calls."""

    def __init__(
        self,
        component: Component,
        function: Callable[..., Any],
        spec: _IOSpec,
        auto_log: bool,
        staleness_threshold: int,
    ) -> None:
        self.component = component
        self.function = function
        self.spec = spec
        self.auto_log = auto_log
        self.staleness_threshold = staleness_threshold
        self.capture = LocalsCapture(function)
        target = inspect.unwrap(function)
        code = getattr(target, "__code__", None)
        self.qualname = f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}"
        self.file = code.co_filename if code else ""
        self._snapshot: bytes | None = None

    @property
    def snapshot(self) -> bytes:
        if self._snapshot is None:
            try:
                self._snapshot = inspect.getsource(inspect.unwrap(self.function)).encode()
            except (OSError, TypeError):
                self._snapshot = b""
        return self._snapshot

    def overrides(self, hook: str) -> bool:
        """Whether the component's class overrides mltrace's ``beforeRun``/``afterRun``."""
        return getattr(type(self.component), hook) is not getattr(Component, hook)

    def needs_locals(self) -> bool:
        component = self.component
        return bool(
            self.overrides("afterRun")
            or self.spec.needs_locals()
            or self.auto_log
            or (component.afterTests and not self.spec.skip_after)
            or component.afterTriggers
        )

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        run, span, token = self._begin()
        captured: dict[str, Any] = {}
        try:
            component = self.component
            if not self.spec.skip_before:
                datatests.before(component, self.function, args, kwargs, run, self._renamed)
                if self.overrides("beforeRun"):
                    component.beforeRun(
                        **self._renamed(datatests.arguments(self.function, args, kwargs))
                    )
            if self.needs_locals():
                result = self.capture.call(args, kwargs, captured)
            else:
                result = self.function(*args, **kwargs)
            if not self.spec.skip_after:
                datatests.after(component, self.function, self._renamed(captured), run)
                if self.overrides("afterRun"):
                    component.afterRun(**self._renamed(captured))
        except BaseException as error:
            self._finish(run, span, token, args, kwargs, captured, error)
            run = span = token = captured = None  # no frame of this call keeps the run alive
            raise
        missing = self._finish(run, span, token, args, kwargs, captured, None)
        if missing is not None:
            run = span = token = captured = None
            raise missing
        return result

    def _renamed(self, values: dict[str, Any]) -> dict[str, Any]:
        """Test arguments under mltrace's renames (``run(test_name="variable")``)."""
        if UNCAPTURED in values:
            values = {key: value for key, value in values.items() if key != UNCAPTURED}
        if not self.spec.renames:
            return values
        renamed = dict(values)
        for variable, test_name in self.spec.renames:
            if variable in values:
                renamed[test_name] = values[variable]
        return renamed

    def _begin(self) -> tuple[ComponentRun | None, Any, contextvars.Token[Any] | None]:
        try:
            component = self.component
            run = ComponentRun(component.name)
            run.meta = ComponentMeta(component.owner, component.description, tuple(component.tags))
            run.start_ns = time.time_ns()
            run.staleness_threshold = self.staleness_threshold
            run.code_function = self.qualname
            run.code_file = self.file
            span = state.tracing().tracer.start_span(component.name, start_time=run.start_ns)
            span_token = trace.context_api.attach(trace.set_span_in_context(span))
            run_token = current_run.set(run)
            return run, (span, span_token), run_token
        except Exception as error:  # tracing must never break the pipeline
            _report_failure("start", self.component.name, error)
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
                inputs, outputs = self._pointers(captured)
            except ValueError as problem:
                missing, inputs, outputs = problem, [], []
                if error is None:
                    run.error = problem
            if self.auto_log:
                auto_inputs, auto_outputs = self._auto_log(args, kwargs, captured)
                inputs += auto_inputs
                outputs += auto_outputs
            if self.spec.endpoint:
                outputs = [_as_endpoint(pointer) for pointer in outputs]
            run.prepend_pointers(inputs, outputs)
            if error is not None:
                run.error = error
            emit(run, live_span)
            run.error = None
        except Exception as problem:  # tracing must never break the pipeline
            _report_failure("log", run.component_name, problem)
        return missing

    def _pointers(self, captured: dict[str, Any]) -> tuple[list[PointerArg], list[PointerArg]]:
        """The run's inputs and outputs from the function's locals (SPEC 3.2): a plain name
        stays a ``str`` (its type is inferred when the span is built)."""
        spec = self.spec
        if UNCAPTURED in captured:
            logger.warning(
                "mltrace: run of %s logged without its input_vars/output_vars: its locals "
                "could not be captured", self.component.name,
            )
            return list(spec.input_names), list(spec.output_names)
        save_dir = None  # read only for a value saved as an object
        sides: tuple[list[PointerArg], list[PointerArg]] = ([], [])
        for pointers, variables, pairs, argument in (
            (sides[0], spec.inputs, spec.input_pairs, "input"),
            (sides[1], spec.outputs, spec.output_pairs, "output"),
        ):
            for name, how in variables:
                keyword = f"{argument}_filenames" if how == _STR_NAMES else f"{argument}_vars"
                value = self._local(captured, name, keyword)
                if how == _STR_NAMES and value is not None:
                    value = [str(item) for item in value] if isinstance(value, list) else str(value)
                if type(value) is str and value:  # a pointer name, what pointers_from_value makes
                    pointers.append(value)
                    continue
                if save_dir is None:
                    save_dir = state.logging_settings().save_dir
                pointers.extend(pointers_from_value(value, save_dir, name))
            for key, value_name in pairs:
                pointers.extend(
                    _pointers_with_values(
                        self._local(captured, key, f"{argument}_kwargs"),
                        self._local(captured, value_name, f"{argument}_kwargs"),
                        key, value_name,
                    )
                )
        sides[0].extend(spec.input_names)
        sides[1].extend(spec.output_names)
        return sides

    def _local(self, captured: dict[str, Any], name: str, argument: str) -> Any:
        if name not in captured:
            raise MissingVariableError(
                f"{argument} names {name!r}, which is not a local variable of "
                f"{self.qualname} when it returns"
            )
        return captured[name]

    def _auto_log(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], captured: dict[str, Any]
    ) -> tuple[list[IOPointer], list[IOPointer]]:
        arguments = datatests.arguments(self.function, args, kwargs)
        save_dir = state.logging_settings().save_dir
        inputs = [
            pointer
            for name, value in arguments.items()
            if _worth_logging(name, value)
            for pointer in pointers_from_value(value, save_dir, name)
        ]
        outputs = [
            pointer
            for name, value in captured.items()
            if name not in arguments and _worth_logging(name, value)
            for pointer in pointers_from_value(value, save_dir, name)
        ]
        return inputs, outputs


def _pointers_with_values(names: Any, values: Any, key: str, value_name: str) -> list[IOPointer]:
    """mltrace's ``input_kwargs``/``output_kwargs``: pointer names with their values."""
    if names is None:
        return []
    if isinstance(names, list):
        if not isinstance(values, list) or len(values) != len(names):
            raise ValueError(f"{value_name!r} does not have the same length as {key!r}")
        pairs = list(zip(names, values))
    else:
        pairs = [(names, values)]
    return [IOPointer(str(name), value) for name, value in pairs if str(name)]


def _as_endpoint(pointer: PointerArg) -> IOPointer:
    if isinstance(pointer, str):
        return IOPointer(pointer, pointer_type=PointerType.ENDPOINT)
    return IOPointer(pointer.name, pointer_type=PointerType.ENDPOINT, version=pointer.version)


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
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    input_vars: Sequence[str] = (),
    output_vars: Sequence[str] = (),
    input_kwargs: dict[str, str] | None = None,
    output_kwargs: dict[str, str] | None = None,
    endpoint: bool = False,
    staleness_threshold: int = semconv.DEFAULT_STALENESS_THRESHOLD,
    auto_log: bool = False,
) -> Callable[[F], F]:
    """mltrace's ``register`` decorator, in mltrace's positional order: ``inputs``/``outputs``
    are pointer names logged on every call, ``input_vars``/``output_vars`` local variables."""
    spec = _IOSpec.build(
        input_vars,
        output_vars,
        endpoint,
        {"input_kwargs": input_kwargs, "output_kwargs": output_kwargs},
        component_name,
        input_names=[name for name in _names(inputs) if name],
        output_names=[name for name in _names(outputs) if name],
    )
    return Component(component_name)._decorator(spec, auto_log, staleness_threshold)
