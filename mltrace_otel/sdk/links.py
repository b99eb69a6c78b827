"""Dependencies this process can see when a run ends, so they become span links.

The query layer derives dependencies from pointers for every run in the store; this registry
only covers runs logged by the current process, which is what the SDK knows at log time.
It applies the same rule as the queries (SPEC 3.3): the latest producer that started no
later than the consumer, ties broken by later end, then later logged.

Its state is bounded whatever a process logs: at most ``_MAX_POINTERS`` (100,000) pointer
names (the name first seen longest ago is dropped first), each with its newest
``_MAX_PRODUCERS_PER_KEY`` (8) producing runs, and the newest 8 runs per component (one
entry is a span context, two timestamps and a sequence number: tens of MiB at the cap). A
consumer whose producer was dropped still gets its lineage from the store's queries; only
the span link is missing.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext

_MAX_POINTERS = 100_000
_MAX_PRODUCERS_PER_KEY = 8


class LoggedRun(NamedTuple):
    """What the registry keeps of a run logged by this process."""

    context: SpanContext
    start_ns: int
    end_ns: int
    sequence: int


class LocalLineage:
    """Latest producers of pointers and latest runs of components, for this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget every run (the configuration switched to another store)."""
        with self._lock:
            self._producers: OrderedDict[str, list[tuple[LoggedRun, str]]] = OrderedDict()
            self._component_runs: dict[str, list[LoggedRun]] = {}
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
            sequence = next(self._sequence)
            run = LoggedRun(context, start_ns, end_ns, sequence)
            _append(self._component_runs.setdefault(component, []), run)
            first = max(0, len(names) - _MAX_POINTERS)
            producers = self._producers
            for index in range(first, len(names)):
                name = names[index]
                entries = producers.get(name)
                if entries is None:
                    entries = producers[name] = []
                    if len(producers) > _MAX_POINTERS:
                        producers.popitem(last=False)
                _append(entries, (run, versions[index]))

    def producer(self, name: str, version: str, start_ns: int) -> SpanContext | None:
        """Latest run of this process that wrote ``name`` (at ``version``, if given)."""
        entries = self._producers.get(name)
        if not entries:
            return None
        candidates = [
            run
            for run, written in entries
            if run.start_ns <= start_ns and (not version or written == version)
        ]
        return _latest(candidates)

    def latest_run(self, component: str, start_ns: int) -> SpanContext | None:
        """Latest run of ``component`` in this process that started no later than ``start_ns``."""
        entries = self._component_runs.get(component, [])
        return _latest([entry for entry in entries if entry.start_ns <= start_ns])


def _append(entries: list[Any], run: Any) -> None:
    entries.append(run)
    if len(entries) > _MAX_PRODUCERS_PER_KEY:
        del entries[0]


def _latest(candidates: list[LoggedRun]) -> SpanContext | None:
    """SPEC 3.3's pick: latest start, then later end, then later logged. The query side
    orders "logged" the same way: ``LoggedAt`` follows the order in which a process exported
    its spans (``queries/schema/11_mltrace_runs_mv.sql``), which is the order they ended."""
    if not candidates:
        return None
    best = max(candidates, key=lambda run: (run.start_ns, run.end_ns, run.sequence))
    return best.context


registry = LocalLineage()
"""The registry of the current process."""
