"""Query-time lineage (SPEC 3.3): which runs each run depends on, derived from pointers,
``set_upstream`` and span links, for runs logged by any process or language.

The store returns candidate producers per pointer (``queries/producers.sql``); the rule
picks, per consumer and input, the latest producer that started no later than the consumer
(at the consumer's version when it names one), ties broken by later end, then later logged.
Without an in-memory index a walk asks the store once per level; chDB answers any table
read in about 5 ms, so the number of queries, not their size, decides latency. A process
that walks lineage more than once builds a LineageIndex and walks in memory.
"""

from __future__ import annotations

import os
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mltrace_otel.lineage.keys import pointer_key, run_id, span_key
from mltrace_otel.store import Store, sql

if TYPE_CHECKING:
    from mltrace_otel.lineage.index import LineageIndex

LATEST_NS = (2**63) - 1
"""A start time later than any run (the pseudo-consumer of a trace's output id)."""


@dataclass(frozen=True)
class Consumer:
    """What lineage needs of a run: its start and what it read, named, or linked."""

    id: str
    start_ns: int
    inputs: tuple[tuple[str, str], ...]
    upstream: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    complete: bool = True
    """False for a pointer-index row of a run with continuation spans: ``inputs`` are not all
    it read, so a walk reads the run by id (``consumers_by_id``)."""


@dataclass(frozen=True)
class _Candidate:
    pointer: str
    version: str
    run: Consumer
    end_ns: int
    logged_ns: int

    @property
    def rank(self) -> tuple[int, int, int, str]:
        return (self.run.start_ns, self.end_ns, self.logged_ns, self.run.id)


def consumer(
    run_id: str,
    start_ns: int,
    inputs: Sequence[str],
    versions: Sequence[str],
    upstream: Sequence[str] = (),
    links: Sequence[str] = (),
    continued: bool = False,
) -> Consumer:
    """Build a Consumer from store columns (``continued``: the row lists only some of the
    run's inputs)."""
    padded = list(versions) + [""] * (len(inputs) - len(versions))
    return Consumer(
        run_id, int(start_ns), tuple(zip(inputs, padded)), tuple(upstream), tuple(links),
        not continued,
    )


def resolve(
    store: Store, consumers: Sequence[Consumer]
) -> tuple[dict[str, list[str]], dict[str, Consumer]]:
    """Direct dependencies of each consumer, and every producer seen (as a Consumer)."""
    edges: dict[str, list[str]] = {item.id: [] for item in consumers}
    seen: dict[str, Consumer] = {}
    readers = [item for item in consumers if item.inputs]
    if readers:
        candidates = _candidates(store, readers)
        for item in readers:
            for name, version in item.inputs:
                best = _latest(
                    candidate
                    for candidate in candidates.get(name, ())
                    if candidate.run.start_ns <= item.start_ns
                    and candidate.run.id != item.id
                    and (not version or candidate.version == version)
                )
                if best is not None:
                    if best.run.complete:  # else the next level reads it by id
                        seen[best.run.id] = best.run
                    _add(edges[item.id], best.run.id)
    _resolve_upstream(store, [item for item in consumers if item.upstream], edges)
    for item in consumers:
        for link in item.links:
            if link != item.id:
                _add(edges[item.id], link)
    return edges, seen


def _candidates(store: Store, readers: Sequence[Consumer]) -> dict[str, list[_Candidate]]:
    pointers = list(dict.fromkeys(name for item in readers for name, _ in item.inputs))
    until = max(item.start_ns for item in readers)
    rows = store.query(sql.load("producers"), {"pointers": pointers, "until_ns": until}).rows
    found: dict[str, list[_Candidate]] = defaultdict(list)
    for (pointer, version, span_id, start, end, logged, inputs, versions, upstream, links,
         continued) in rows:
        run = consumer(span_id, start, inputs, versions, upstream, links, continued)
        found[pointer].append(_Candidate(pointer, version, run, int(end), int(logged)))
    return found


def _resolve_upstream(
    store: Store, consumers: Sequence[Consumer], edges: dict[str, list[str]]
) -> None:
    if not consumers:
        return
    components = list(dict.fromkeys(name for item in consumers for name in item.upstream))
    until = max(item.start_ns for item in consumers)
    runs: dict[str, list[tuple[int, int, int, str]]] = defaultdict(list)
    parameters = {"components": components, "until_ns": until}
    rows = store.query(sql.load("upstream_runs"), parameters).rows
    for component, span_id, start, end, logged in rows:
        runs[component].append((int(start), int(end), int(logged), span_id))
    for item in consumers:
        for component in item.upstream:
            eligible = [
                run
                for run in runs.get(component, ())
                if run[0] <= item.start_ns and run[3] != item.id
            ]
            if eligible:
                _add(edges[item.id], max(eligible)[3])


def _latest(candidates: Iterable[_Candidate]) -> _Candidate | None:
    return max(candidates, key=lambda candidate: candidate.rank, default=None)


def _add(producers: list[str], run_id: str) -> None:
    if run_id not in producers:
        producers.append(run_id)


def consumers_by_id(store: Store, ids: Sequence[str]) -> dict[str, Consumer]:
    """Lineage facts of runs known only by id (reached through a link or set_upstream)."""
    if not ids:
        return {}
    rows = store.query(sql.load("run_inputs"), {"ids": list(ids)}).rows
    parts = continued_pointers(store, [row[0] for row in rows if row[-1]], "input")
    facts: dict[str, Consumer] = {}
    for span_id, start_ns, inputs, versions, upstream, links, _ in rows:
        more_inputs, more_versions, _ = parts.get(span_id, ([], [], []))
        padded = list(versions) + [""] * (len(inputs) - len(versions))
        facts[span_id] = consumer(
            span_id, start_ns, [*inputs, *more_inputs], [*padded, *more_versions], upstream, links
        )
    return facts


def continued_pointers(
    store: Store, ids: Sequence[str], direction: str
) -> dict[str, tuple[list[str], list[str], list[int]]]:
    """The pointers (names, versions, index keys) in ``direction`` that continuation spans
    carry for runs ``ids``, by run (only ask for runs that have continuation spans: the
    pointer index is read by span id, a scan)."""
    if not ids:
        return {}
    rows = store.query(
        sql.load("continuation_pointers"), {"ids": list(ids), "direction": direction}
    ).rows
    return {
        span_id: (list(names), list(versions), [int(key) for key in keys])
        for span_id, names, versions, keys in rows
    }


class Lineage:
    """Lineage walks for one operation, in memory when the store has a lineage index."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = lineage_index(store)

    def latest_producer(self, pointer: str) -> str | None:
        """The latest run that wrote ``pointer`` (level 0 of its trace), or None."""
        return self.latest_producers([pointer]).get(pointer)

    def upstream_closure(self, start: Sequence[str]) -> dict[str, list[str]]:
        """Dependency edges of every run reachable from the runs ``start`` (ids): in memory
        with an index, otherwise one store query per level."""
        if self.index is not None:
            return _indexed_closure(self.store, self.index, start)
        edges: dict[str, list[str]] = {}
        known: dict[str, Consumer] = {}
        frontier = list(dict.fromkeys(start))
        while frontier:
            missing = [run for run in frontier if run not in known]
            known.update(consumers_by_id(self.store, missing))
            level, seen = resolve(self.store, [known[run] for run in frontier if run in known])
            known.update(seen)
            edges.update(level)
            frontier = _next_frontier(level, edges)
        return edges

    def latest_producers(self, pointers: Sequence[str]) -> dict[str, str]:
        """``latest_producer`` of many pointers at once (those some run wrote)."""
        if self.index is not None:
            found = self.index.producers(
                [pointer_key(pointer) for pointer in pointers], [0] * len(pointers),
                [LATEST_NS] * len(pointers), [0] * len(pointers),
            )
            return {
                pointer: run_id(run) for pointer, run in zip(pointers, found) if run is not None
            }
        wanted = [Consumer(f"\0{pointer}", LATEST_NS, ((pointer, ""),)) for pointer in pointers]
        edges, _ = resolve(self.store, wanted)
        return {item.inputs[0][0]: edges[item.id][0] for item in wanted if edges[item.id]}

    def dependencies(self, consumers: Sequence[Consumer]) -> dict[str, list[str]]:
        """Direct dependencies of each consumer: in memory with an index, otherwise one
        store query for all of them."""
        if self.index is None:
            return resolve(self.store, consumers)[0] if consumers else {}
        ids = [item.id for item in consumers]
        edges, left = _indexed(self.index, ids, unknown_via_store=True)
        if left:
            wanted = set(left)
            edges.update(resolve(self.store, [item for item in consumers if item.id in wanted])[0])
        return edges

    def dependencies_of(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Direct dependencies of runs known by id (runs the store lacks are left out)."""
        if self.index is None:
            return self.dependencies(list(consumers_by_id(self.store, ids).values()))
        edges, left = _indexed(self.index, ids, unknown_via_store=False)
        if left:
            consumers = list(consumers_by_id(self.store, left).values())
            edges.update(resolve(self.store, consumers)[0] if consumers else {})
        return edges


def _indexed_closure(
    store: Store, index: LineageIndex, start: Sequence[str]
) -> dict[str, list[str]]:
    """The closure from the index; the store answers only for runs whose id or links are
    not span ids. Runs the store does not have get no entry, as on the store path."""
    edges: dict[str, list[str]] = {}
    frontier = list(start)
    while frontier:
        level, via_store = _indexed(index, frontier, unknown_via_store=False)
        if via_store:
            level.update(resolve(store, list(consumers_by_id(store, via_store).values()))[0])
        edges.update(level)
        frontier = _next_frontier(level, edges)
    return edges


def _indexed(
    index: LineageIndex, runs: Sequence[str], unknown_via_store: bool
) -> tuple[dict[str, list[str]], list[str]]:
    """Dependencies of ``runs`` from the index, and the runs it leaves to the store: those
    whose id or a link is not a span id and, with ``unknown_via_store``, those it lacks."""
    keys = {run: span_key(run) for run in runs}
    via_store = [run for run, key in keys.items() if key is None]
    regular = {key: run for run, key in keys.items() if key is not None}
    present = index.knows(list(regular))
    found, irregular = indexed_dependencies(
        index, [key for key, known in zip(regular, present) if known]
    )
    via_store += [regular[key] for key in irregular]
    if unknown_via_store:
        via_store += [regular[key] for key, known in zip(regular, present) if not known]
    return {
        regular[key]: [run_id(producer) for producer in producers]
        for key, producers in found.items()
    }, via_store


def indexed_dependencies(
    index: LineageIndex, runs: Sequence[int]
) -> tuple[dict[int, list[int]], list[int]]:
    """Dependencies of runs the index has (keys), and the runs it leaves to the store
    (those with a link that is not a span id)."""
    via_store = [run for run in runs if index.needs_store(run)]
    left = set(via_store)
    on_index = [run for run in runs if run not in left]
    return dict(zip(on_index, index.dependencies(on_index))), via_store


def _next_frontier(level: dict[str, list[str]], edges: dict[str, list[str]]) -> list[str]:
    return list(
        dict.fromkeys(
            producer
            for producers in level.values()
            for producer in producers
            if producer not in edges
        )
    )


# -- the in-memory index: when to build it ---------------------------------------------------

INDEX_MODE = os.environ.get("MLTRACE_LINEAGE_INDEX", "auto")
"""``auto`` (build on a process's second lineage walk), ``on`` (first walk) or ``off``."""

_indexes: weakref.WeakKeyDictionary[Store, _IndexState] = weakref.WeakKeyDictionary()


@dataclass
class _IndexState:
    walks: int = 0
    index: LineageIndex | None = None


def build_index(store: Store) -> None:
    """Load the store's in-memory lineage index now, unless the index is ``off``
    (``mltrace serve`` at start, so its first walk is as fast as the next)."""
    if INDEX_MODE != "off" and store.generation is not None:
        _indexes.setdefault(store, _IndexState()).walks += 1
        lineage_index(store)


def lineage_index(store: Store) -> LineageIndex | None:
    """The store's up-to-date in-memory lineage index, when this process should use one.

    Each call counts as one lineage operation for the ``auto`` policy."""
    generation = store.generation
    if INDEX_MODE == "off" or generation is None:
        return None
    state = _indexes.setdefault(store, _IndexState())
    state.walks += 1
    if state.index is None:
        if INDEX_MODE != "on" and state.walks < 2:
            return None
        from mltrace_otel.lineage.index import LineageIndex  # numpy: off the import path

        state.index = LineageIndex()
    if state.index.generation != generation:
        state.index.refresh(store, generation)
    return state.index
