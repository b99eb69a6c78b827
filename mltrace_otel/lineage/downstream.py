"""Forward lineage: the runs downstream of some runs, and their final outputs (outputs that
no run that started no earlier read).

Run C is downstream of run P when P is one of C's dependencies under the SPEC 3.3 rule, so
reading a pointer P wrote is not enough when a later producer superseded P for C. Each
level asks the store for candidate consumers (``queries/consumers.sql``: readers of the
level's outputs, runs naming its components with ``set_upstream``, runs linking to it) and
confirms them with the same rule trace uses; one or two store queries per level. With an
in-memory lineage index the whole walk runs in memory on 64-bit run keys (candidates from
the outputs each run span lists, its component and its id; dependencies from the index) and
asks the store once at the end for the facts of every run reached: at 10^6 stored runs a
full-row read costs ~10 ms however few runs it returns, so one read beats one per level.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from mltrace_otel import semconv
from mltrace_otel.lineage import dependencies as _dependencies
from mltrace_otel.lineage.dependencies import (
    Consumer,
    Lineage,
    continued_pointers,
    indexed_dependencies,
)
from mltrace_otel.lineage.keys import pointer_key, run_id, span_key
from mltrace_otel.store import Store, records, sql

if TYPE_CHECKING:
    from mltrace_otel.lineage.index import LineageIndex


class RunFacts(NamedTuple):
    """What a downstream walk needs of a run (a tuple: built for every run a walk reaches)."""

    id: str
    component: str
    start_ns: int
    outputs: tuple[str, ...]
    output_keys: tuple[int, ...]
    """The outputs' lineage index keys, as the store computed them (``pointer_key``)."""
    continued: bool = False
    """Whether continuation spans carry more of the run's pointers (``with_continued_outputs``
    adds their outputs)."""


@dataclass
class Downstream:
    """Runs reached by a forward walk and how they connect."""

    facts: dict[str, RunFacts]
    """Every run reached, the start runs included."""
    children: dict[str, list[str]] = field(default_factory=dict)
    """Run id -> the runs that depend on it."""
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Run id -> its direct dependencies (SPEC 3.3), for every run reached."""
    final_outputs: dict[str, list[str]] = field(default_factory=dict)
    """Run id -> its final outputs: those no other run that started no earlier read."""


def run_facts(store: Store, ids: Sequence[str]) -> dict[str, RunFacts]:
    """Component, start and outputs of runs by id (runs the store does not have are left out)."""
    if not ids:
        return {}
    rows = store.query(sql.load("run_facts"), {"ids": list(ids)}).rows
    return with_continued_outputs(store, {
        span_id: RunFacts(span_id, component, int(start), tuple(outputs), tuple(keys), continued)
        for span_id, component, start, outputs, keys, continued in rows
    })


def facts_of(span_id: str, record: Sequence[Any]) -> RunFacts:
    """The facts of one run from its record (``mltrace_otel.store.records``); the outputs
    its continuation spans carry are added by ``with_continued_outputs``."""
    return RunFacts(
        span_id, record[records.COMPONENT], int(record[records.START_NS]),
        tuple(record[records.OUTPUTS]), tuple(map(int, record[records.OUTPUT_KEYS])),
        semconv.RUN_CONTINUATION_SPANS in record[records.ATTRIBUTES],
    )


def with_continued_outputs(store: Store, facts: dict[str, RunFacts]) -> dict[str, RunFacts]:
    """``facts`` with the outputs that continuation spans carry added, so a forward walk
    starts from every output of a run, not only those its span lists."""
    parts = continued_pointers(store, [run for run, item in facts.items() if item.continued],
                               "output")
    for run, (names, _, keys) in parts.items():
        item = facts[run]
        facts[run] = item._replace(
            outputs=item.outputs + tuple(names), output_keys=item.output_keys + tuple(keys)
        )
    return facts


def readers(lineage: Lineage, pointer: str) -> dict[str, list[str]]:
    """Every run that read ``pointer``, whichever run wrote it, with its dependencies."""
    if lineage.index is not None:
        found = lineage.index.consumers([pointer_key(pointer)], (), (), 0)
        return lineage.dependencies_of([run_id(run) for run in found])
    return lineage.dependencies(list(_candidates(lineage.store, [pointer], (), (), 0).values()))


FactsReader = Callable[[Sequence[str]], dict[str, RunFacts]]
"""Reads the facts of runs by id (``run_facts`` on the walk's store unless a caller that
needs more of each run reads it in the same query)."""

Reached = Callable[[Sequence[str]], None]
"""Told the runs (ids) a walk reached, a level at a time, as it finds them (so the caller
can begin reading them while the walk goes on)."""


def walk(
    lineage: Lineage,
    start: Sequence[str],
    dependencies: Mapping[str, Sequence[str]] | None = None,
    read_facts: FactsReader | None = None,
    facts: Mapping[str, RunFacts] | None = None,
    reached: Reached | None = None,
) -> Downstream:
    """Everything downstream of the runs ``start`` (ids); ``dependencies`` may hold edges
    already known and ``facts`` the facts of runs already read (``read_facts`` reads the
    rest; runs the store does not have are left out). On the in-memory index, the walk asks
    for facts once, at the end, and tells ``reached`` each level as it finds it."""
    if read_facts is None:
        read_facts = functools.partial(run_facts, lineage.store)
    known_facts = dict(facts or {})
    start = list(dict.fromkeys(start))
    if lineage.index is not None and None not in map(span_key, start):
        return _walk_on_index(
            lineage, lineage.index, start, dependencies or {}, read_facts, known_facts,
            reached or (lambda runs: None),
        )
    return _walk_on_store(lineage, start, dependencies or {}, read_facts, known_facts)


def _walk_on_store(
    lineage: Lineage,
    start: list[str],
    dependencies: Mapping[str, Sequence[str]],
    read_facts: FactsReader,
    facts: dict[str, RunFacts],
) -> Downstream:
    """The walk with a store query for each level's candidates and one for its new runs."""
    facts.update(read_facts([run for run in start if run not in facts]))
    result = Downstream(facts={run: facts[run] for run in start if run in facts})
    known = {run: list(producers) for run, producers in dependencies.items()}
    children: dict[str, list[str]] = defaultdict(list)
    frontier = list(result.facts)
    while frontier:
        level = [result.facts[run] for run in frontier]
        found = _candidates(
            lineage.store,
            list(dict.fromkeys(name for item in level for name in item.outputs)),
            list(dict.fromkeys(item.component for item in level)),
            frontier,
            min(item.start_ns for item in level),
        )
        known.update(lineage.dependencies([c for c in found.values() if c.id not in known]))
        result.final_outputs.update(_final_outputs(level, found.values()))
        in_level = set(frontier)
        reached: list[str] = []
        for run in sorted(found):
            for producer in known.get(run, ()):
                if producer in in_level and producer != run and run not in children[producer]:
                    children[producer].append(run)
                    reached.append(run)
        new = [run for run in dict.fromkeys(reached) if run not in result.facts]
        result.facts.update((run, facts[run]) for run in new if run in facts)
        result.facts.update(read_facts([run for run in new if run not in facts]))
        frontier = [run for run in new if run in result.facts]
    result.children = dict(children)
    result.dependencies = {run: known.get(run, []) for run in result.facts}
    return result


def _walk_on_index(
    lineage: Lineage,
    index: LineageIndex,
    start: list[str],
    dependencies: Mapping[str, Sequence[str]],
    read_facts: FactsReader,
    facts: dict[str, RunFacts],
    reached: Reached,
) -> Downstream:
    """The walk in memory, on 64-bit run keys: candidates and their dependencies come from
    the index, and the store is asked once at the end, for the facts of the runs reached
    (and for the dependencies of runs the index leaves to it)."""
    ids = {span_key(run): run for run in start}
    reached([run for run in start if run not in facts])
    producers: dict[int, list[int]] = {  # edges by key, to confirm candidates
        key: [producer for producer in map(span_key, edges) if producer is not None]
        for key, edges in ((span_key(run), edges) for run, edges in dependencies.items())
        if key is not None
    }
    from_store: dict[str, list[str]] = {}
    children: dict[int, list[int]] = defaultdict(list)
    frontier = list(ids)
    while frontier:
        candidates = index.consumers_of(frontier)
        unknown = [run for run in candidates if run not in producers]
        on_index, via_store = indexed_dependencies(index, unknown)
        producers.update(on_index)
        store_edges = lineage.dependencies_of([run_id(key) for key in via_store])
        for key in via_store:  # runs with a link that is not a span id
            edges = from_store[run_id(key)] = store_edges.get(run_id(key), [])
            producers[key] = [item for item in map(span_key, edges) if item is not None]
        in_level = set(frontier)
        new: dict[int, None] = {}
        for run in candidates:
            for producer in producers.get(run, ()):
                if producer in in_level and producer != run:
                    children[producer].append(run)
                    if run not in ids:
                        new[run] = None
        level = {key: run_id(key) for key in new}
        reached([run for run in level.values() if run not in facts])
        ids.update(level)
        frontier = list(new)
    edges = {  # before the facts: the last level's read may still be under way
        run: list(dependencies[run]) if run in dependencies
        else from_store[run] if run in from_store
        else [ids.get(producer) or run_id(producer) for producer in producers.get(key, ())]
        for key, run in ids.items()
    }
    by_producer = {
        ids[producer]: [ids[run] for run in runs] for producer, runs in children.items()
    }
    facts.update(read_facts([run for run in ids.values() if run not in facts]))
    result = Downstream(facts={run: facts[run] for run in ids.values() if run in facts})
    result.children = by_producer
    result.dependencies = {run: edges[run] for run in result.facts}
    result.final_outputs = _indexed_final_outputs(
        index, [(key, facts[run]) for key, run in ids.items() if run in facts]
    )
    return result


def _indexed_final_outputs(
    index: LineageIndex, runs: Sequence[tuple[int, RunFacts]]
) -> dict[str, list[str]]:
    """``_final_outputs`` from the in-memory index, for runs with their keys."""
    pointers: list[int] = []
    starts: list[int] = []
    owners: list[int] = []
    for key, item in runs:
        pointers += item.output_keys
        starts += [item.start_ns] * len(item.output_keys)
        owners += [key] * len(item.output_keys)
    read = iter(index.read_since(pointers, starts, owners))
    return {item.id: [name for name in item.outputs if not next(read)] for _, item in runs}


def _final_outputs(
    level: Sequence[RunFacts], candidates: Iterable[Consumer]
) -> dict[str, list[str]]:
    """Outputs of each run that no other run starting no earlier read."""
    readers_of: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for candidate in candidates:
        for name, _ in candidate.inputs:
            readers_of[name].append((candidate.start_ns, candidate.id))
    return {
        item.id: [
            name
            for name in item.outputs
            if not any(
                start >= item.start_ns and reader != item.id
                for start, reader in readers_of.get(name, ())
            )
        ]
        for item in level
    }


def _candidates(
    store: Store,
    pointers: Sequence[str],
    components: Sequence[str],
    ids: Sequence[str],
    since_ns: int,
) -> dict[str, Consumer]:
    """Candidate consumers by id."""
    parameters = {
        "pointers": list(pointers),
        "components": list(components),
        "ids": list(ids),
        "since_ns": since_ns,
    }
    rows = store.query(sql.load("consumers"), parameters).rows
    found: dict[str, Consumer] = {}
    partial: set[str] = set()
    for row in rows:
        item = _dependencies.consumer(*row)
        if not item.complete:  # the run's inputs by id
            partial.add(item.id)
        found.setdefault(item.id, item)
    found.update(_dependencies.consumers_by_id(store, sorted(partial)))
    return found
