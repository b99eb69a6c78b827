"""ComponentRun and how a finished run becomes one OpenTelemetry span."""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanContext, Status, StatusCode

from mltrace_otel import semconv, state
from mltrace_otel.sdk.git import head_facts
from mltrace_otel.sdk.links import registry
from mltrace_otel.sdk.pointers import IOPointer, PointerType, cached_type_name

logger = logging.getLogger("mltrace_otel")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_nanos(timestamp: datetime | float | int | None) -> int:
    """Nanoseconds since the epoch; a naive ``datetime`` is UTC, ``None`` is now.

    Numbers are epoch seconds; anything else (a ``str`` included) raises ``TypeError``,
    as in mltrace."""
    if timestamp is None:
        return time.time_ns()
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=timezone.utc)
        delta = timestamp - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        return int(float(timestamp) * 1_000_000_000)
    raise TypeError(
        f"Timestamp must be of type datetime (or epoch seconds), got {type(timestamp).__name__}"
    )


@dataclass(frozen=True)
class SpanEvent:
    """An event to record on the run's span (a data test or trigger outcome)."""

    name: str
    attributes: Mapping[str, Any]
    timestamp_ns: int


@dataclass
class ComponentMeta:
    """Component facts carried on every run span, so any process can describe it."""

    owner: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()


class ComponentRun:
    """One run of a component, built up explicitly and logged with ``log_component_run``.

    The constructor takes mltrace's arguments in mltrace's order; ``inputs``/``outputs`` hold
    pointers (names or ``IOPointer``), ``dependencies`` component names (``set_upstream``).
    """

    def __init__(
        self,
        component_name: str,
        start_timestamp: datetime | None = None,
        end_timestamp: datetime | None = None,
        inputs: Iterable[str | IOPointer] = (),
        outputs: Iterable[str | IOPointer] = (),
        git_hash: str | None = None,
        code_snapshot: bytes | str | None = None,
        id: str | None = None,
        dependencies: Iterable[str] = (),
        *,
        git_tags: Iterable[str] | None = None,
        notes: str = "",
    ) -> None:
        if not isinstance(component_name, str) or not component_name:
            raise ValueError("a component run needs a non-empty component name")
        self._component_name = component_name
        self.start_ns: int | None = None
        self.end_ns: int | None = None
        self._inputs: _Pointers = {}
        self._outputs: _Pointers = {}
        self.git_hash = git_hash
        self.git_tags: list[str] | None = None if git_tags is None else list(git_tags)
        self.code_snapshot = code_snapshot
        self.code_function: str = ""
        self.code_file: str = ""
        self.notes = notes
        self.id = id
        self.upstream: list[str] = []
        self.staleness_threshold: int = semconv.DEFAULT_STALENESS_THRESHOLD
        self.meta = ComponentMeta()
        self.events: list[SpanEvent] = []
        self.error: BaseException | None = None
        self.failure_message: str = ""
        if start_timestamp is not None:
            self.set_start_timestamp(start_timestamp)
        if end_timestamp is not None:
            self.set_end_timestamp(end_timestamp)
        if inputs:
            self.add_inputs(inputs)
        if outputs:
            self.add_outputs(outputs)
        if dependencies:
            self.set_upstream(list(dependencies))

    @property
    def component_name(self) -> str:
        """The component this is a run of (read-only, as in mltrace)."""
        return self._component_name

    # -- timestamps ------------------------------------------------------------------------
    def set_start_timestamp(self, ts: datetime | None = None) -> None:
        """Start time (a naive datetime is UTC; default now); ``TypeError`` for a ``str``."""
        self.start_ns = to_nanos(ts)

    def set_end_timestamp(self, ts: datetime | None = None) -> None:
        """End time (a naive datetime is UTC; default now); ``TypeError`` for a ``str``."""
        self.end_ns = to_nanos(ts)

    @property
    def start_timestamp(self) -> datetime | None:
        return _datetime(self.start_ns)

    @property
    def end_timestamp(self) -> datetime | None:
        return _datetime(self.end_ns)

    @property
    def notes(self) -> str:
        """Notes logged with the run (``TypeError`` for anything but a ``str``, as mltrace)."""
        return self._notes

    @notes.setter
    def notes(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"notes must be a str, not {type(value).__name__}")
        self._notes = value

    # -- pointers --------------------------------------------------------------------------
    @property
    def inputs(self) -> list[IOPointer]:
        """Input pointers, duplicates collapsed, in mltrace's order: ``list(set(...))``, so
        by hash. The span and the store keep them in the order first added."""
        return list(set(_materialize(self._inputs)))

    @inputs.setter
    def inputs(self, pointers: Iterable[str | IOPointer]) -> None:
        self._inputs = {}
        self.add_inputs(pointers)

    @property
    def outputs(self) -> list[IOPointer]:
        """Output pointers, duplicates collapsed, in mltrace's order (see ``inputs``)."""
        return list(set(_materialize(self._outputs)))

    @outputs.setter
    def outputs(self, pointers: Iterable[str | IOPointer]) -> None:
        self._outputs = {}
        self.add_outputs(pointers)

    def add_input(
        self, inp: str | IOPointer, pointer_type: PointerType | str | None = None
    ) -> None:
        """Add an input pointer (a name or an ``IOPointer``); duplicates collapse."""
        if type(inp) is str and inp and pointer_type is None:  # the per-record fast path
            self._inputs.setdefault((inp, ""), None)
        else:
            _add(self._inputs, inp, pointer_type, self.component_name)

    def add_inputs(self, inputs: Iterable[str | IOPointer]) -> None:
        for inp in [inputs] if isinstance(inputs, (str, IOPointer)) else inputs:
            _add(self._inputs, inp, None, self.component_name)

    def pointer_columns(self) -> tuple[_Columns, _Columns]:
        """(names, versions, types) of the inputs and of the outputs, for the span."""
        return _columns(self._inputs), _columns(self._outputs)

    def add_output(
        self, out: str | IOPointer, pointer_type: PointerType | str | None = None
    ) -> None:
        """Add an output pointer (a name or an ``IOPointer``); duplicates collapse."""
        if type(out) is str and out and pointer_type is None:  # the per-record fast path
            self._outputs.setdefault((out, ""), None)
        else:
            _add(self._outputs, out, pointer_type, self.component_name)

    def add_outputs(self, outputs: Iterable[str | IOPointer]) -> None:
        for out in [outputs] if isinstance(outputs, (str, IOPointer)) else outputs:
            _add(self._outputs, out, None, self.component_name)

    def prepend_pointers(self, inputs: list[PointerArg], outputs: list[PointerArg]) -> None:
        """Put ``inputs``/``outputs`` before the pointers added so far (duplicates collapse
        to the first); how the decorator adds the locals it logs at return."""
        self._inputs = _prepended(inputs, self._inputs)
        self._outputs = _prepended(outputs, self._outputs)

    def set_upstream(self, dependencies: str | Iterable[str]) -> None:
        """Depend on the latest run of each named component that started no later."""
        names = [dependencies] if isinstance(dependencies, str) else list(dependencies)
        self.upstream = list(dict.fromkeys([*self.upstream, *names]))

    @property
    def dependencies(self) -> list[str]:
        """mltrace's name for the components given to ``set_upstream``."""
        return list(self.upstream)

    def to_dictionary(self) -> dict[str, Any]:
        """mltrace's dictionary form of the run (timestamps as UTC datetimes)."""
        snapshot = self.code_snapshot
        return {
            "component_name": self.component_name,
            "start_timestamp": self.start_timestamp,
            "end_timestamp": self.end_timestamp,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "git_hash": self.git_hash,
            "git_tags": [] if self.git_tags is None else list(self.git_tags),  # None: from git
            "code_snapshot": snapshot.decode("utf-8", "replace")
            if isinstance(snapshot, (bytes, bytearray))
            else snapshot,
            "id": self.id,
            "dependencies": self.dependencies,
            "notes": self.notes,
            "stale": [],  # computed when the run is queried (Run.stale), never at log time
        }

    def __repr__(self) -> str:
        return (
            f"ComponentRun({self.component_name!r}, inputs={[p.name for p in self.inputs]}, "
            f"outputs={[p.name for p in self.outputs]})"
        )


PointerArg = str | IOPointer
"""A pointer as the API takes it: a name (type inferred from it) or an ``IOPointer``."""

_Pointers = dict[tuple[str, str], "IOPointer | None"]
"""A run's pointers by (name, version), in the order first added; None stands for a pointer
added by name only (its type is inferred when needed), so adding one is a dict insert."""

_Columns = tuple[list[str], list[str], list[str]]


def _add(
    pointers: _Pointers,
    value: str | IOPointer,
    pointer_type: PointerType | str | None,
    component: str,
) -> None:
    """Add one pointer; an empty name is skipped with a warning (it names nothing)."""
    if type(value) is str and value and pointer_type is None:
        pointers.setdefault((value, ""), None)
    elif isinstance(value, IOPointer):
        pointers.setdefault((value.name, value.version), value)
    elif isinstance(value, str) and value:
        pointers.setdefault((value, ""), IOPointer(value, pointer_type=pointer_type))
    elif isinstance(value, str):
        logger.warning("mltrace: run of %s: skipped an empty pointer name", component)
    else:
        raise TypeError(f"a pointer is a str or an IOPointer, got {type(value).__name__}")


def _prepended(first: list[PointerArg], pointers: _Pointers) -> _Pointers:
    """``first``, then ``pointers``; a name in ``first`` without a version is left out when
    ``pointers`` has it with one (a path variable of a file ``save``/``load`` versioned)."""
    if not first:
        return pointers
    versioned = {name for name, version in pointers if version}
    merged: _Pointers = {}
    for pointer in first:
        if type(pointer) is str:  # a name: (name, no version), type inferred later
            if pointer not in versioned:
                merged.setdefault((pointer, ""), None)
        elif pointer.version or pointer.name not in versioned:  # type: ignore[union-attr]
            merged.setdefault((pointer.name, pointer.version), pointer)  # type: ignore[union-attr]
        else:  # the versioned pointer stands for it, with its type (endpoint=True's)
            for (name, version), kept in pointers.items():
                if name == pointer.name and version and kept is not None:  # type: ignore[union-attr]
                    kept.pointer_type = pointer.pointer_type  # type: ignore[union-attr]
    for key, pointer in pointers.items():
        merged.setdefault(key, pointer)
    return merged


def _materialize(pointers: _Pointers) -> list[IOPointer]:
    return [
        IOPointer(name) if pointer is None else pointer for (name, _), pointer in pointers.items()
    ]


def _columns(pointers: _Pointers) -> _Columns:
    names: list[str] = []
    versions: list[str] = []
    types: list[str] = []
    for (name, version), pointer in pointers.items():  # one pass: the per-run hot path
        names.append(name)
        versions.append(version)
        types.append(cached_type_name(name) if pointer is None else pointer.pointer_type.value)
    return names, versions, types


def _datetime(nanos: int | None) -> datetime | None:
    """The UTC datetime of Unix nanoseconds, cut to the microsecond as the store's runs are
    (a float of the seconds would round, and lose digits)."""
    if nanos is None:
        return None
    return _EPOCH + timedelta(microseconds=nanos // 1000)


def log_component_run(
    component_run: ComponentRun,
    set_dependencies_from_inputs: bool = True,
    staleness_threshold: int | None = None,
) -> None:
    """Log a finished run as one span. Raises ``RuntimeError`` without start or end time.

    ``staleness_threshold`` (seconds, as in mltrace) overrides the run's own threshold."""
    if component_run.start_ns is None or component_run.end_ns is None:
        raise RuntimeError(
            f"component run {component_run.component_name!r} needs both a start and an end "
            "timestamp: call set_start_timestamp() and set_end_timestamp() first"
        )
    if staleness_threshold is not None:
        component_run.staleness_threshold = int(staleness_threshold)
    emit(component_run, None, set_dependencies_from_inputs)


_OK = Status(StatusCode.OK)

SPAN_POINTER_BYTES = 1 << 20
"""Pointer bytes (names, versions, types) one span carries; the rest go to continuation
spans, so no span comes near the 4 MiB a Collector's gRPC receiver accepts by default."""

_POINTER_OVERHEAD = 16


def emit(run: ComponentRun, span: Span | None, link_inputs: bool = True) -> None:
    """End ``span`` (or create one covering the run) with everything ``run`` recorded."""
    assert run.start_ns is not None and run.end_ns is not None
    inputs, outputs = run.pointer_columns()
    head, rest = _split(inputs, outputs)
    attributes = _attributes(run, head)
    if rest:
        attributes[semconv.RUN_CONTINUATION_SPANS] = len(rest)
    links = _links(run, inputs, link_inputs)
    if span is None:
        span = state.tracing().tracer.start_span(
            run.component_name, start_time=run.start_ns, attributes=attributes,
            links=[Link(context, link_attributes) for context, link_attributes in links],
        )
    else:
        span.set_attributes(attributes)
        for context, link_attributes in links:  # the SDK builds its own Link from these
            span.add_link(context, link_attributes)
    for event in run.events:
        span.add_event(event.name, event.attributes, event.timestamp_ns)
    if run.error is not None:
        span.record_exception(run.error, timestamp=run.end_ns, escaped=True)
        span.set_status(Status(StatusCode.ERROR, _error_message(run.error)))
    elif run.failure_message:
        span.set_status(Status(StatusCode.ERROR, run.failure_message))
    else:
        span.set_status(_OK)
    span.end(end_time=run.end_ns)
    context = span.get_span_context()
    _emit_continuations(run, span, rest)
    run.id = format(context.span_id, "016x")
    names, versions, _ = outputs
    registry.record(run.component_name, names, versions, context, run.start_ns, run.end_ns)


_Chunk = tuple[_Columns, _Columns]


def _split(inputs: _Columns, outputs: _Columns) -> tuple[_Chunk, list[_Chunk]]:
    """Chunks of (inputs, outputs) of at most SPAN_POINTER_BYTES each: the run span's, then
    the continuation spans' (inputs first)."""
    cuts = [0]  # positions in inputs + outputs where a chunk starts
    used = 0
    position = 0
    for names, versions, types in (inputs, outputs):
        for index, name in enumerate(names):
            size = len(name) + len(versions[index]) + len(types[index]) + _POINTER_OVERHEAD
            if used + size > SPAN_POINTER_BYTES and used:
                cuts.append(position)
                used = 0
            used += size
            position += 1
    if len(cuts) == 1:
        return (inputs, outputs), []
    cuts.append(position)
    count = len(inputs[0])
    chunks = [
        (_part(inputs, start, stop), _part(outputs, start - count, stop - count))
        for start, stop in itertools.pairwise(cuts)
    ]
    return chunks[0], chunks[1:]


def _part(columns: _Columns, start: int, stop: int) -> _Columns:
    start, stop = max(start, 0), max(stop, 0)
    names, versions, types = columns
    return names[start:stop], versions[start:stop], types[start:stop]


def _emit_continuations(run: ComponentRun, parent: Span, chunks: list[_Chunk]) -> None:
    """One child span per chunk: same component, start and end as the run (CONTINUATION)."""
    if not chunks:
        return
    tracer = state.tracing().tracer
    context = trace.set_span_in_context(parent)
    for inputs, outputs in chunks:
        attributes: dict[str, Any] = {
            semconv.COMPONENT_NAME: run.component_name,
            semconv.CONTINUATION: True,
            **_pointer_attributes(inputs, outputs, compact=True),
        }
        child = tracer.start_span(
            run.component_name, context=context, start_time=run.start_ns, attributes=attributes
        )
        child.end(end_time=run.end_ns)


def _pointer_attributes(
    inputs: _Columns, outputs: _Columns, compact: bool = False
) -> dict[str, Any]:
    """The pointer attributes; ``compact`` leaves out version and type arrays whose entries
    are all empty/UNKNOWN (readers pad them so: docs/conventions.md)."""
    (input_names, input_versions, input_types), (output_names, output_versions, output_types) = (
        inputs, outputs
    )
    attributes: dict[str, Any] = {
        semconv.RUN_INPUTS: input_names,
        semconv.RUN_INPUT_VERSIONS: input_versions,
        semconv.RUN_INPUT_TYPES: input_types,
        semconv.RUN_OUTPUTS: output_names,
        semconv.RUN_OUTPUT_VERSIONS: output_versions,
        semconv.RUN_OUTPUT_TYPES: output_types,
    }
    if compact:
        for key, versions in ((semconv.RUN_INPUT_VERSIONS, input_versions),
                              (semconv.RUN_OUTPUT_VERSIONS, output_versions)):
            if not any(versions):
                del attributes[key]
        for key, types in ((semconv.RUN_INPUT_TYPES, input_types),
                           (semconv.RUN_OUTPUT_TYPES, output_types)):
            if all(kind == "UNKNOWN" for kind in types):
                del attributes[key]
    return attributes


def _error_message(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _attributes(run: ComponentRun, pointers: _Chunk) -> dict[str, Any]:
    attributes = _pointer_attributes(*pointers)
    attributes[semconv.COMPONENT_NAME] = run.component_name
    attributes.update(_run_constants(run))
    if run.notes:
        attributes[semconv.RUN_NOTES] = run.notes
    if run.upstream:
        attributes[semconv.RUN_UPSTREAM] = list(run.upstream)
    return attributes


_MAX_CONSTANTS = 256
_constants: dict[tuple[Any, ...], dict[str, Any]] = {}
"""The attributes that stay the same from run to run of a component (threshold, git, meta,
code), built once per distinct combination; at most ``_MAX_CONSTANTS`` are kept."""


def _run_constants(run: ComponentRun) -> dict[str, Any]:
    if run.git_hash is None or run.git_tags is None:
        head_hash, head_tags = head_facts()
        git_hash = head_hash if run.git_hash is None else run.git_hash
        git_tags: tuple[str, ...] = head_tags if run.git_tags is None else tuple(run.git_tags)
    else:
        git_hash, git_tags = run.git_hash, tuple(run.git_tags)
    meta = run.meta
    snapshot = run.code_snapshot
    key = (
        int(run.staleness_threshold), git_hash, git_tags, meta.owner, meta.description,
        meta.tags, snapshot, run.code_function, run.code_file,
    )
    try:
        constants = _constants.get(key)
    except TypeError:  # an unhashable snapshot (bytearray) or tags: build it uncached
        return _build_constants(key)
    if constants is None:
        if len(_constants) >= _MAX_CONSTANTS:
            _constants.clear()
        constants = _constants[key] = _build_constants(key)
    return constants


def _build_constants(key: tuple[Any, ...]) -> dict[str, Any]:
    staleness, git_hash, git_tags, owner, description, tags, snapshot, function, file = key
    constants: dict[str, Any] = {
        semconv.RUN_STALENESS_THRESHOLD: staleness,
        semconv.VCS_REF_HEAD_REVISION: git_hash or "",
    }
    if owner:
        constants[semconv.COMPONENT_OWNER] = owner
    if description:
        constants[semconv.COMPONENT_DESCRIPTION] = description
    if tags:
        constants[semconv.COMPONENT_TAGS] = list(tags)
    if git_tags:
        constants[semconv.RUN_GIT_TAGS] = list(git_tags)
    if snapshot:
        if isinstance(snapshot, str):
            snapshot = snapshot.encode("utf-8", "replace")
        constants[semconv.RUN_CODE_SNAPSHOT] = bytes(snapshot).decode("utf-8", "replace")
        constants[semconv.RUN_CODE_SNAPSHOT_HASH] = hashlib.sha256(bytes(snapshot)).hexdigest()
    if function:
        constants[semconv.CODE_FUNCTION_NAME] = function
        constants[semconv.CODE_FILE_PATH] = file
    return constants


def _links(
    run: ComponentRun, inputs: _Columns, link_inputs: bool
) -> list[tuple[SpanContext, dict[str, str]]]:
    """(context, attributes) of each span link: the runs that produced the inputs, then the
    latest runs of the upstream components, each run once."""
    assert run.start_ns is not None
    links: list[tuple[SpanContext, dict[str, str]]] = []
    seen: set[int] = set()
    if link_inputs:
        names, versions, _ = inputs
        for index, name in enumerate(names):
            context = registry.producer(name, versions[index], run.start_ns)
            if context is not None and context.span_id not in seen:
                seen.add(context.span_id)
                links.append((context, {semconv.LINK_POINTER: name}))
    for component in run.upstream:
        context = registry.latest_run(component, run.start_ns)
        if context is not None and context.span_id not in seen:
            seen.add(context.span_id)
            links.append((context, {semconv.LINK_UPSTREAM: component}))
    return links
