"""ComponentRun and how a finished run becomes one OpenTelemetry span."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from opentelemetry.trace import Link, Span, Status, StatusCode

from mltrace_otel import semconv, state
from mltrace_otel.sdk.git import get_git_hash, get_git_tags
from mltrace_otel.sdk.links import registry
from mltrace_otel.sdk.pointers import IOPointer, unique

logger = logging.getLogger("mltrace_otel")

DEFAULT_STALENESS_THRESHOLD = 30 * 24 * 60 * 60
"""Seconds: a dependency older than this (relative to the run) is stale (SPEC 3.4)."""


def to_nanos(timestamp: datetime | float | int | None) -> int:
    """Nanoseconds since the epoch; a naive ``datetime`` is UTC, ``None`` is now."""
    if timestamp is None:
        return time.time_ns()
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=timezone.utc)
        delta = timestamp - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return int(float(timestamp) * 1_000_000_000)


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
    """One run of a component, built up explicitly and logged with ``log_component_run``."""

    def __init__(self, component_name: str, **meta: Any) -> None:
        if not isinstance(component_name, str) or not component_name:
            raise ValueError("a component run needs a non-empty component name")
        self.component_name = component_name
        self.start_ns: int | None = None
        self.end_ns: int | None = None
        self.inputs: list[IOPointer] = []
        self.outputs: list[IOPointer] = []
        self.git_hash: str | None = None
        self.git_tags: list[str] | None = None
        self.code_snapshot: bytes | None = None
        self.code_function: str = ""
        self.code_file: str = ""
        self.notes: str = ""
        self.upstream: list[str] = []
        self.staleness_threshold: int = DEFAULT_STALENESS_THRESHOLD
        self.meta = ComponentMeta(**meta)
        self.events: list[SpanEvent] = []
        self.error: BaseException | None = None
        self.failure_message: str = ""

    # -- timestamps ------------------------------------------------------------------------
    def set_start_timestamp(self, ts: datetime | None = None) -> None:
        """Start time (a naive datetime is UTC; default now)."""
        self.start_ns = to_nanos(ts)

    def set_end_timestamp(self, ts: datetime | None = None) -> None:
        """End time (a naive datetime is UTC; default now)."""
        self.end_ns = to_nanos(ts)

    @property
    def start_timestamp(self) -> datetime | None:
        return _datetime(self.start_ns)

    @property
    def end_timestamp(self) -> datetime | None:
        return _datetime(self.end_ns)

    # -- pointers --------------------------------------------------------------------------
    def add_input(self, inp: str | IOPointer) -> None:
        """Add an input pointer (a name or an ``IOPointer``); duplicates collapse."""
        self.inputs = unique([*self.inputs, _pointer(inp)])

    def add_inputs(self, inputs: Iterable[str | IOPointer]) -> None:
        self.inputs = unique([*self.inputs, *map(_pointer, inputs)])

    def add_output(self, out: str | IOPointer) -> None:
        """Add an output pointer (a name or an ``IOPointer``); duplicates collapse."""
        self.outputs = unique([*self.outputs, _pointer(out)])

    def add_outputs(self, outputs: Iterable[str | IOPointer]) -> None:
        self.outputs = unique([*self.outputs, *map(_pointer, outputs)])

    def set_upstream(self, dependencies: str | Iterable[str]) -> None:
        """Depend on the latest run of each named component that started no later."""
        names = [dependencies] if isinstance(dependencies, str) else list(dependencies)
        self.upstream = list(dict.fromkeys([*self.upstream, *names]))

    def __repr__(self) -> str:
        return (
            f"ComponentRun({self.component_name!r}, inputs={[p.name for p in self.inputs]}, "
            f"outputs={[p.name for p in self.outputs]})"
        )


def _pointer(value: str | IOPointer) -> IOPointer:
    return value if isinstance(value, IOPointer) else IOPointer(value)


def _datetime(nanos: int | None) -> datetime | None:
    if nanos is None:
        return None
    return datetime.fromtimestamp(nanos / 1e9, tz=timezone.utc)


def log_component_run(
    component_run: ComponentRun, set_dependencies_from_inputs: bool = True
) -> None:
    """Log a finished run as one span. Raises ``RuntimeError`` without start or end time."""
    if component_run.start_ns is None or component_run.end_ns is None:
        raise RuntimeError(
            f"component run {component_run.component_name!r} needs both a start and an end "
            "timestamp: call set_start_timestamp() and set_end_timestamp() first"
        )
    emit(component_run, None, set_dependencies_from_inputs)


def emit(run: ComponentRun, span: Span | None, link_inputs: bool = True) -> None:
    """End ``span`` (or create one covering the run) with everything ``run`` recorded."""
    assert run.start_ns is not None and run.end_ns is not None
    attributes = _attributes(run)
    links = _links(run, link_inputs)
    if span is None:
        span = state.tracing().tracer.start_span(
            run.component_name, start_time=run.start_ns, attributes=attributes, links=links
        )
    else:
        span.set_attributes(attributes)
        for link in links:
            span.add_link(link.context, link.attributes)
    for event in run.events:
        span.add_event(event.name, event.attributes, event.timestamp_ns)
    if run.error is not None:
        span.record_exception(run.error, timestamp=run.end_ns, escaped=True)
        span.set_status(Status(StatusCode.ERROR, _error_message(run.error)))
    elif run.failure_message:
        span.set_status(Status(StatusCode.ERROR, run.failure_message))
    else:
        span.set_status(Status(StatusCode.OK))
    span.end(end_time=run.end_ns)
    registry.record(
        run.component_name,
        [(pointer.name, pointer.version) for pointer in run.outputs],
        span.get_span_context(),
        run.start_ns,
        run.end_ns,
    )


def _error_message(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _attributes(run: ComponentRun) -> dict[str, Any]:
    git_hash = get_git_hash() if run.git_hash is None else run.git_hash
    git_tags = get_git_tags() if run.git_tags is None else run.git_tags
    attributes: dict[str, Any] = {
        semconv.COMPONENT_NAME: run.component_name,
        semconv.RUN_INPUTS: [pointer.name for pointer in run.inputs],
        semconv.RUN_INPUT_TYPES: [pointer.pointer_type.value for pointer in run.inputs],
        semconv.RUN_INPUT_VERSIONS: [pointer.version for pointer in run.inputs],
        semconv.RUN_OUTPUTS: [pointer.name for pointer in run.outputs],
        semconv.RUN_OUTPUT_TYPES: [pointer.pointer_type.value for pointer in run.outputs],
        semconv.RUN_OUTPUT_VERSIONS: [pointer.version for pointer in run.outputs],
        semconv.RUN_STALENESS_THRESHOLD: int(run.staleness_threshold),
        semconv.VCS_REF_HEAD_REVISION: git_hash,
    }
    meta = run.meta
    if meta.owner:
        attributes[semconv.COMPONENT_OWNER] = meta.owner
    if meta.description:
        attributes[semconv.COMPONENT_DESCRIPTION] = meta.description
    if meta.tags:
        attributes[semconv.COMPONENT_TAGS] = list(meta.tags)
    if git_tags:
        attributes[semconv.RUN_GIT_TAGS] = list(git_tags)
    if run.code_snapshot:
        attributes[semconv.RUN_CODE_SNAPSHOT] = run.code_snapshot.decode("utf-8", "replace")
        attributes[semconv.RUN_CODE_SNAPSHOT_HASH] = _snapshot_hash(run.code_snapshot)
    if run.code_function:
        attributes[semconv.CODE_FUNCTION_NAME] = run.code_function
        attributes[semconv.CODE_FILE_PATH] = run.code_file
    if run.notes:
        attributes[semconv.RUN_NOTES] = run.notes
    if run.upstream:
        attributes[semconv.RUN_UPSTREAM] = list(run.upstream)
    return attributes


_snapshot_hashes: dict[bytes, str] = {}


def _snapshot_hash(snapshot: bytes) -> str:
    digest = _snapshot_hashes.get(snapshot)
    if digest is None:
        digest = _snapshot_hashes[snapshot] = hashlib.sha256(snapshot).hexdigest()
    return digest


def _links(run: ComponentRun, link_inputs: bool) -> list[Link]:
    assert run.start_ns is not None
    links: list[Link] = []
    seen: set[int] = set()
    if link_inputs:
        for pointer in run.inputs:
            context = registry.producer(pointer.name, pointer.version, run.start_ns)
            if context is not None and context.span_id not in seen:
                seen.add(context.span_id)
                links.append(Link(context, {semconv.LINK_POINTER: pointer.name}))
    for component in run.upstream:
        context = registry.latest_run(component, run.start_ns)
        if context is not None and context.span_id not in seen:
            seen.add(context.span_id)
            links.append(Link(context, {semconv.LINK_UPSTREAM: component}))
    return links
