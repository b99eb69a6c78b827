"""Review of flagged outputs (SPEC 3.4): which runs are involved in most of them, and which
are most suspicious once the outputs nobody flagged are counted too.

Coverage counts, per run, the flagged outputs whose trace includes it. The suspiciousness
score is Ochiai's, from spectrum-based fault localisation:

    score(run) = flagged(run) / sqrt(total_flagged * involved(run))

where ``involved(run)`` counts every output whose lineage includes the run, flagged or not:
the final outputs downstream of the run (outputs that no run starting no earlier than their
producer read) plus the flagged outputs. A run that feeds everything (the raw-data load) has full
coverage but a low score; a run that feeds only flagged outputs scores 1.

All flagged outputs are walked together, one store query per level (or in memory when the
process has a lineage index); counting is a bitset propagation over the dependency graph.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mltrace_otel import state
from mltrace_otel.lineage import downstream as _downstream
from mltrace_otel.lineage.dependencies import Lineage
from mltrace_otel.query import SORTS
from mltrace_otel.query.flags import flagged_output_ids
from mltrace_otel.query.models import Run
from mltrace_otel.query.runs import fetch_runs
from mltrace_otel.store.bulk import gc_paused

"""Orders of ``review``: by suspiciousness score or by coverage."""


@dataclass
class Suspect:
    """A run involved in producing flagged outputs."""

    run: Run
    count: int
    """Flagged outputs whose trace includes the run."""
    coverage: float
    """``count`` over all flagged outputs."""
    score: float | None = None
    """Ochiai suspiciousness (None when review ran without scores)."""
    involved: int | None = None
    """Outputs, flagged or not, whose lineage includes the run."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "coverage": self.coverage,
            "score": self.score,
            "involved": self.involved,
            "run": self.run.to_dict(),
        }


@dataclass
class Review:
    """The flagged outputs and the runs involved in them, most suspicious first."""

    flagged_outputs: list[str]
    suspects: list[Suspect]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged_outputs": self.flagged_outputs,
            "suspects": [suspect.to_dict() for suspect in self.suspects],
        }


def review_flagged_outputs() -> tuple[list[str], list[tuple[Run, int]]]:
    """mltrace's review: the flagged output ids and ``(run, count)`` for every run involved
    in producing them, by count descending, ties most recent run first."""
    result = _review(limit=None, sort="coverage", scored=False)
    return result.flagged_outputs, [(suspect.run, suspect.count) for suspect in result.suspects]


def review(limit: int | None = None, sort: str = "score") -> Review:
    """The runs involved in the flagged outputs with coverage and suspiciousness score,
    sorted by ``score`` (then coverage) or ``coverage``, ties most recent run first."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
    return _review(limit=limit, sort=sort, scored=True)


@gc_paused
def _review(limit: int | None, sort: str, scored: bool) -> Review:
    store = state.store()
    flagged = flagged_output_ids(store)
    lineage = Lineage(store)
    roots = lineage.latest_producers(flagged)
    graph = lineage.upstream_closure(list(dict.fromkeys(roots.values())))
    bits = {(root, output): 1 << index for index, (output, root) in enumerate(roots.items())}
    flagged_mask = (1 << len(bits)) - 1
    seeds: Counter[str] = Counter()
    for (root, _), bit in bits.items():
        seeds[root] |= bit
    runs: dict[str, Run] = {}
    if scored:
        facts = _downstream.run_facts(store, list(graph))
        starts: Mapping[str, float] = {run: item.start_ns for run, item in facts.items()}
        if facts:
            down = _downstream.walk(lineage, list(facts), graph, facts=facts)
            graph = {**down.dependencies, **graph}
            for run, outputs in down.final_outputs.items():
                for name in outputs:
                    seeds[run] |= bits.setdefault((run, name), 1 << len(bits))
    else:  # every run is returned: fetch them all now, their start times sort them
        runs = fetch_runs(graph, graph)
        starts = {run_id: run.start_timestamp.timestamp() for run_id, run in runs.items()}
    reach = _propagate(graph, seeds)
    ranked = [
        (run, (reach[run] & flagged_mask).bit_count(), reach[run].bit_count())
        for run in starts
        if reach.get(run, 0) & flagged_mask
    ]
    total = len(flagged)

    def score(count: int, involved: int) -> float:
        return count / math.sqrt(total * involved)

    def order(item: tuple[str, int, int]) -> tuple[float, ...]:
        run, count, involved = item
        primary = (-score(count, involved), -count) if sort == "score" else (-count,)
        return (*primary, -starts[run])

    ranked.sort(key=lambda item: item[0], reverse=True)  # last tie-break: run id, stable below
    ranked.sort(key=order)
    chosen = ranked if limit is None else ranked[: max(int(limit), 0)]
    if scored:
        runs = fetch_runs([run for run, _, _ in chosen], graph)
    suspects = [
        Suspect(
            runs[run],
            count,
            count / total,
            score(count, involved) if scored else None,
            involved if scored else None,
        )
        for run, count, involved in chosen
        if run in runs
    ]
    return Review(flagged, suspects)


def _propagate(graph: Mapping[str, Sequence[str]], seeds: Mapping[str, int]) -> dict[str, int]:
    """Each run's seed bits OR those of every run that depends on it, directly or not."""
    nodes = set(graph) | set(seeds) | {dep for deps in graph.values() for dep in deps}
    bits = {node: seeds.get(node, 0) for node in nodes}
    waiting: Counter[str] = Counter(dep for deps in graph.values() for dep in set(deps))
    ready = [node for node in nodes if not waiting[node]]
    while ready:
        node = ready.pop()
        for dep in set(graph.get(node, ())):
            bits[dep] |= bits[node]
            waiting[dep] -= 1
            if not waiting[dep]:
                ready.append(dep)
    cyclic = [node for node in nodes if waiting[node]]  # runs that started at the same time
    changed = bool(cyclic)
    while changed:
        changed = False
        for node in cyclic:
            for dep in graph.get(node, ()):
                if bits[dep] | bits[node] != bits[dep]:
                    bits[dep] |= bits[node]
                    changed = True
    return bits
