"""Dependencies this process can see when a run ends, so they become span links.

The query layer derives dependencies from pointers for every run in the store; this registry
only covers runs logged by the current process, which is what the SDK knows at log time.
It applies the same rule as the queries (SPEC 3.3): the latest producer that started no
later than the consumer, ties broken by later end, then later logged.

Its state is bounded whatever a process logs: at most ``_MAX_POINTERS`` (100,000) pointer
names (the name first seen longest ago is dropped first), each with its newest
``_MAX_PRODUCERS_PER_KEY`` (8) producing runs, and the newest 8 runs per component. A run
is kept packed (ids, flags, start, end and sequence in 49 bytes), and a name written once
without a content version holds that packed run alone: ~12 MiB at the cap, plus the names
themselves (~7 MiB for 100,000 names of 22 characters); the span contexts of the last
1,024 producers picked are kept built. A consumer whose producer was
dropped still gets its lineage from the store's queries; only the span link is missing.
"""

from __future__ import annotations

import functools
import itertools
import struct
import threading
from collections import deque
from typing import Any

from opentelemetry.trace import SpanContext, TraceFlags, TraceState

_MAX_POINTERS = 100_000
_MAX_PRODUCERS_PER_KEY = 8

_PACKED = struct.Struct("<QQQqqqB")
"""A logged run in 49 bytes: trace id (high, low), span id, start, end, sequence, flags."""

_LOW_64 = (1 << 64) - 1
_NS_MIN, _NS_MAX = -(1 << 63), (1 << 63) - 1
"""Times are kept as signed 64-bit nanoseconds (1677 to 2262); a run logged with a time
outside that range (``datetime(1, 1, 1)``) is kept at the nearest end of it."""

_Run = bytes | tuple[bytes, TraceState]
"""A packed run, with its trace state when that is not empty (a run's spans rarely have one).
The SDK's span contexts and a tuple per run took ~80 MiB at the cap."""


class LocalLineage:
    """Latest producers of pointers and latest runs of components, for this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget every run (the configuration switched to another store)."""
        with self._lock:
            # per pointer name: (run, version written, run, version written, ...), oldest
            # first; a bare packed run when one run wrote it without a version (the usual)
            self._producers: dict[str, bytes | tuple[Any, ...]] = {}
            self._names: deque[str] = deque()  # the keys of _producers, first seen first
            self._component_runs: dict[str, tuple[_Run, ...]] = {}
            self._sequence = itertools.count()

    def record(
        self,
        component: str,
        names: list[str],
        versions: list[str],
        context: SpanContext,
        start_ns: int,
        end_ns: int,
    ) -> None:
        """Remember a finished run and the pointers (names, versions) it wrote; of a run
        with more than the registry holds, its last ones (the registry keeps the newest)."""
        with self._lock:
            run = _pack(context, start_ns, end_ns, next(self._sequence))
            runs = self._component_runs
            runs[component] = (*runs.get(component, ())[1 - _MAX_PRODUCERS_PER_KEY:], run)
            producers, order = self._producers, self._names
            bare = type(run) is bytes
            if len(names) > _MAX_POINTERS:
                names, versions = names[-_MAX_POINTERS:], versions[-_MAX_POINTERS:]
            for name, version in zip(names, versions):
                entries = producers.get(name)
                if entries is None:
                    producers[name] = run if bare and not version else (run, version)
                    order.append(name)
                    if len(order) > _MAX_POINTERS:
                        del producers[order.popleft()]
                else:
                    if type(entries) is bytes:
                        entries = (entries, "")
                    producers[name] = (*entries[2 - 2 * _MAX_PRODUCERS_PER_KEY:], run, version)

    def producer(self, name: str, version: str, start_ns: int) -> SpanContext | None:
        """Latest run of this process that wrote ``name`` (at ``version``, if given)."""
        entries = self._producers.get(name)
        if entries is None:
            return None
        if type(entries) is bytes:
            return None if version else _latest((entries,), start_ns)
        return _latest((entries[index] for index in range(0, len(entries), 2)
                        if not version or entries[index + 1] == version), start_ns)

    def latest_run(self, component: str, start_ns: int) -> SpanContext | None:
        """Latest run of ``component`` in this process that started no later than ``start_ns``."""
        return _latest(self._component_runs.get(component, ()), start_ns)


def _pack(context: SpanContext, start_ns: int, end_ns: int, sequence: int) -> _Run:
    if not (_NS_MIN <= start_ns <= _NS_MAX and _NS_MIN <= end_ns <= _NS_MAX):
        start_ns, end_ns = _clamp(start_ns), _clamp(end_ns)
    trace_id, state = context.trace_id, context.trace_state
    packed = _PACKED.pack(trace_id >> 64, trace_id & _LOW_64, context.span_id, start_ns, end_ns,
                          sequence, context.trace_flags)
    return (packed, state) if state else packed


def _clamp(ns: int) -> int:
    return min(max(ns, _NS_MIN), _NS_MAX)


def _latest(runs: Any, start_ns: int) -> SpanContext | None:
    """SPEC 3.3's pick among the runs that started no later than ``start_ns``: latest
    start, then later end, then later logged. The query side orders "logged" the same way:
    ``LoggedAt`` follows the order in which a process exported its spans
    (``queries/schema/11_mltrace_runs_mv.sql``), which is the order they ended."""
    best: tuple[int, int, int] | None = None
    chosen: _Run | None = None
    for run in runs:
        _, _, _, start, end, sequence, _ = _PACKED.unpack(
            run if isinstance(run, bytes) else run[0])
        if start <= start_ns and (best is None or (start, end, sequence) > best):
            best, chosen = (start, end, sequence), run
    if chosen is None:
        return None
    if isinstance(chosen, bytes):  # the usual: no trace state, so the run is hashable
        return _bare_context(chosen)
    return _context(*chosen)


def _context(packed: bytes, state: TraceState | None) -> SpanContext:
    high, low, span_id, _, _, _, flags = _PACKED.unpack(packed)
    return SpanContext(high << 64 | low, span_id, is_remote=False,
                       trace_flags=TraceFlags(flags), trace_state=state)


@functools.lru_cache(maxsize=1024)
def _bare_context(packed: bytes) -> SpanContext:
    """The span context of a packed run without trace state, kept for the 1,024 producers
    picked last (~0.3 MiB): consumers of one output link to the same run."""
    return _context(packed, None)


registry = LocalLineage()
"""The registry of the current process."""
