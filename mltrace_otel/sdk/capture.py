"""Capture a decorated function's local variables at return, without a process-wide hook.

mltrace reads ``input_vars``/``output_vars`` from the function's locals when it returns. A
``sys.setprofile``/``sys.settrace`` hook would fight profilers (cProfile, pyinstrument),
coverage and debuggers, so the function is recompiled once from its source with its body
wrapped in ``try: ... finally: <hand locals() over>``. The copy keeps the original file name,
line numbers, globals, defaults and closure cells, so tracebacks, breakpoints, coverage and
profilers see the user's code as written. Generators, coroutines and functions without
source fall back to a profile hook that chains to the one already installed, or to no
capture (with a warning) when a C-level profiler such as cProfile owns the hook.
"""

from __future__ import annotations

import ast
import contextvars
import inspect
import logging
import sys
import textwrap
import types
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("mltrace_otel")

_SINK = "__mltrace_capture_locals__"
_FACTORY = "__mltrace_capture_factory__"
_FUTURE_FLAGS = 0x1FE0000  # every CO_FUTURE_* flag a code object can carry

UNCAPTURED = "\0mltrace-uncaptured"
"""Key set in the locals of a call whose locals could not be captured (see module doc)."""

_slot: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "mltrace_captured_locals", default=None
)


def _hand_over() -> None:
    """Called from the recompiled function's ``finally``: copy its locals into the slot."""
    target = _slot.get()
    if target is not None:
        target.update(sys._getframe(1).f_locals)
        target.pop(_SINK, None)


_sink_cell = types.CellType(_hand_over)


class LocalsCapture:
    """Calls one function and returns its locals at return (built once per function)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self._copy: Callable[..., Any] | None = None
        self._prepared = False

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any], into: dict[str, Any]) -> Any:
        """Call the function; its locals at return (or raise) land in ``into``."""
        if not self._prepared:
            self._prepared = True
            self._copy = _recompile(self.function)
        if self._copy is None:
            return _call_with_profile_hook(self.function, args, kwargs, into)
        token = _slot.set(into)
        try:
            return self._copy(*args, **kwargs)
        finally:
            _slot.reset(token)


def _recompile(function: Callable[..., Any]) -> Callable[..., Any] | None:
    """A copy of ``function`` whose body hands its locals over on exit, or None."""
    if type(function) is not types.FunctionType or hasattr(function, "__wrapped__"):
        return None
    code = function.__code__
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        return None
    try:
        lines, first_line = inspect.getsourcelines(function)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef) or definition.name != code.co_name:
        return None
    try:
        module = _module_for(definition, function, first_line)
        namespace: dict[str, Any] = {}
        exec(
            compile(module, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                    dont_inherit=True),
            function.__globals__,
            namespace,
        )
        owner = namespace.get(_class_name(function) or "")
        factory = getattr(owner, _FACTORY, None) or namespace[_FACTORY]
        inner = _inner_code(factory.__code__, code.co_name)
        cells = dict(zip(code.co_freevars, function.__closure__ or ()))
        cells[_SINK] = _sink_cell
        closure = tuple(cells[name] for name in inner.co_freevars)
    except Exception as error:
        logger.debug("mltrace: cannot recompile %s: %s", function.__qualname__, error)
        return None
    copy = types.FunctionType(
        inner, function.__globals__, function.__name__, function.__defaults__, closure
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    copy.__doc__ = function.__doc__
    copy.__dict__.update(function.__dict__)
    return copy


def _module_for(definition: ast.FunctionDef, function: Any, first_line: int) -> ast.Module:
    """``def factory(<free vars>): <definition with try/finally>; return <name>``, nested in
    a class of the same name when the function is a method (so private names mangle alike)."""
    definition.decorator_list = []
    definition.returns = None
    arguments = definition.args
    for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                     arguments.vararg, arguments.kwarg]:
        if argument is not None:
            argument.annotation = None
    arguments.defaults = [ast.Constant(None) for _ in arguments.defaults]
    arguments.kw_defaults = [
        None if default is None else ast.Constant(None) for default in arguments.kw_defaults
    ]
    hand_over = ast.Expr(ast.Call(ast.Name(_SINK, ast.Load()), [], []))
    definition.body = [ast.Try(body=definition.body, handlers=[], orelse=[],
                               finalbody=[hand_over])]
    free = [*function.__code__.co_freevars, _SINK]
    factory = ast.FunctionDef(
        name=_FACTORY,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(name) for name in free], vararg=None,
                           kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[definition, ast.Return(ast.Name(definition.name, ast.Load()))],
        decorator_list=[],
        returns=None,
    )
    statement: ast.stmt = factory
    class_name = _class_name(function)
    if class_name:
        statement = ast.ClassDef(name=class_name, bases=[], keywords=[], body=[factory],
                                 decorator_list=[])
    module = ast.Module(body=[statement], type_ignores=[])
    ast.fix_missing_locations(module)
    ast.increment_lineno(module, first_line - 1)
    return module


def _class_name(function: Any) -> str | None:
    """The enclosing class's name when ``function`` is defined in a class body."""
    parts = function.__qualname__.split(".")
    if len(parts) >= 2 and parts[-2] != "<locals>":
        return parts[-2]
    return None


def _inner_code(factory: types.CodeType, name: str) -> types.CodeType:
    for constant in factory.co_consts:
        if isinstance(constant, types.CodeType) and constant.co_name == name:
            return constant
    raise LookupError(f"no code object {name!r} in the recompiled factory")


_warned_profiler = False


def _call_with_profile_hook(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
    into: dict[str, Any],
) -> Any:
    """Fallback: a profile hook for this call that chains to the hook already installed."""
    global _warned_profiler
    previous = sys.getprofile()
    if previous is not None and not isinstance(previous, (types.FunctionType, types.MethodType)):
        if not _warned_profiler:
            _warned_profiler = True
            logger.warning(
                "mltrace: a C-level profiler owns the profile hook; locals of %s (no source to "
                "recompile) are not captured while it runs",
                getattr(function, "__qualname__", function),
            )
        into[UNCAPTURED] = True
        return function(*args, **kwargs)
    code = getattr(inspect.unwrap(function), "__code__", None)
    state: dict[str, Any] = {}

    def hook(frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and "frame" not in state and frame.f_code is code:
            state["frame"] = frame
        elif event == "return" and frame is state.get("frame"):
            into.update(frame.f_locals)
        return previous(frame, event, arg) if previous is not None else None

    sys.setprofile(hook)
    try:
        return function(*args, **kwargs)
    finally:
        sys.setprofile(previous)
        if "frame" not in state:  # a generator or coroutine: its body runs later
            into[UNCAPTURED] = True
        state.clear()
