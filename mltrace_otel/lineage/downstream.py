"""Forward lineage: the runs downstream of some runs, and their final outputs (outputs that
no run that started no earlier read).

Run C is downstream of run P when P is one of C's dependencies under the SPEC 3.3 rule, so
reading a pointer P wrote is not enough when a later producer superseded P for C. Each
level asks the store for candidate consumers (``queries/consumers.sql``: readers of the
level's outputs, runs naming its components with ``set_upstream``, runs linking to it) and
confirms them with the same rule trace uses; one or two store queries per level. With an
in-memory lineage index, candidates and confirmation come from the index and each level
asks the store only for the new runs' facts (component, start, output names).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mltrace_otel.lineage import dependencies as _dependencies
from mltrace_otel.lineage.dependencies import Consumer, Lineage
from mltrace_otel.lineage.keys import pointer_key, run_id, span_key
from mltrace_otel.store import Store, sql

if TYPE_CHECKING:
    from mltrace_otel.lineage.index import LineageIndex


@dataclass(frozen=True)
class RunFacts:
    """What a downstream walk needs of a run."""

    id: str
    component: str
    start_ns: int
    outputs: tuple[str, ...]


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
    return {
        span_id: RunFacts(span_id, component, int(start), tuple(outputs))
        for span_id, component, start, outputs in rows
    }


def readers(store: Store, pointer: str) -> dict[str, Consumer]:
    """Every run that read ``pointer``, whichever run wrote it."""
    return _candidates(store, [pointer], (), (), 0)


FactsReader = Callable[[Sequence[str]], dict[str, RunFacts]]
"""Reads the facts of runs by id (``run_facts`` on the walk's store unless a caller that
needs more of each run reads it in the same query)."""


def walk(
    lineage: Lineage,
    start: Iterable[RunFacts],
    dependencies: Mapping[str, Sequence[str]] | None = None,
    read_facts: FactsReader | None = None,
) -> Downstream:
    """Everything downstream of ``start``; ``dependencies`` may hold edges already known."""
    store = lineage.store
    if read_facts is None:
        read_facts = functools.partial(run_facts, store)
    result = Downstream(facts={item.id: item for item in start})
    known = {run: list(producers) for run, producers in (dependencies or {}).items()}
    children: dict[str, list[str]] = defaultdict(list)
    frontier = list(result.facts)
    while frontier:
        level = [result.facts[run] for run in frontier]
        run_keys = [span_key(run) for run in frontier]
        if lineage.index is not None and None not in run_keys:
            keys = _LevelKeys(run_keys, level)
            candidates: Iterable[str] = _indexed_candidates(lineage.index, level, keys)
            known.update(lineage.dependencies_of([run for run in candidates if run not in known]))
            result.final_outputs.update(_indexed_final_outputs(lineage.index, level, keys))
        else:
            found = _candidates(
                store,
                list(dict.fromkeys(name for item in level for name in item.outputs)),
                list(dict.fromkeys(item.component for item in level)),
                frontier,
                min(item.start_ns for item in level),
            )
            known.update(lineage.dependencies([c for c in found.values() if c.id not in known]))
            result.final_outputs.update(_final_outputs(level, found.values()))
            candidates = found
        in_level = set(frontier)
        reached: list[str] = []
        for run in sorted(candidates):  # one order, whichever path found them
            for producer in known.get(run, ()):
                if producer in in_level and producer != run and run not in children[producer]:
                    children[producer].append(run)
                    reached.append(run)
        new = [run for run in dict.fromkeys(reached) if run not in result.facts]
        result.facts.update(read_facts(new))
        frontier = [run for run in new if run in result.facts]
    result.children = dict(children)
    result.dependencies = {run: known.get(run, []) for run in result.facts}
    return result


class _LevelKeys:
    """The index keys of one level's runs and of the pointers they wrote, each computed once."""

    def __init__(self, run_keys: Sequence[int | None], level: Sequence[RunFacts]) -> None:
        self.runs = {item.id: key or 0 for item, key in zip(level, run_keys)}
        names = dict.fromkeys(name for item in level for name in item.outputs)
        self.pointers = {name: pointer_key(name) for name in names}


def _indexed_candidates(
    index: LineageIndex, level: Sequence[RunFacts], keys: _LevelKeys
) -> list[str]:
    """Candidate consumers of a level from the in-memory index (as ``_candidates``)."""
    found = index.consumers(
        list(keys.pointers.values()),
        list(dict.fromkeys(item.component for item in level)),
        list(keys.runs.values()),
        min(item.start_ns for item in level),
    )
    return [run_id(run) for run in found]


def _indexed_final_outputs(
    index: LineageIndex, level: Sequence[RunFacts], keys: _LevelKeys
) -> dict[str, list[str]]:
    """``_final_outputs`` from the in-memory index."""
    asked = [(item, name) for item in level for name in item.outputs]
    read = index.read_since(
        [keys.pointers[name] for _, name in asked],
        [item.start_ns for item, _ in asked],
        [keys.runs[item.id] for item, _ in asked],
    )
    final: dict[str, list[str]] = {item.id: [] for item in level}
    for (item, name), was_read in zip(asked, read):
        if not was_read:
            final[item.id].append(name)
    return final


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
        if item.id in item.links:  # a continuation span's row: the run's inputs by id
            partial.add(item.id)
        found.setdefault(item.id, item)
    found.update(_dependencies.consumers_by_id(store, sorted(partial)))
    return found
