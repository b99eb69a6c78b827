"""Staleness (SPEC 3.4), computed in SQL (``queries/staleness.sql``) whenever runs are
queried, from each run's dependencies and its own ``staleness_threshold``."""

from __future__ import annotations

from collections.abc import Iterable

from mltrace_otel.query.models import Run, micros
from mltrace_otel.store import Store, sql


def attach_staleness(store: Store, runs: Iterable[Run]) -> None:
    """Set ``run.stale`` from the run's dependencies: one store query, plus one for the
    dependencies that are not among ``runs``."""
    by_id = {run.id: run for run in runs}
    for run in by_id.values():
        run.stale = []
    pairs = [(run, dependency) for run in by_id.values() for dependency in run.dependencies]
    if not pairs:
        return
    facts = {run.id: (run.component_name, micros(run.start_timestamp)) for run in by_id.values()}
    missing = list(dict.fromkeys(dep for _, dep in pairs if dep not in facts))
    if missing:
        rows = store.query(sql.load("run_starts"), {"ids": missing}).rows
        facts.update((span_id, (component, int(start))) for span_id, component, start in rows)
    known = [(run, dep) for run, dep in pairs if dep in facts]
    if not known:
        return
    parameters = {
        "run_ids": [run.id for run, _ in known],
        "run_starts": [facts[run.id][1] for run, _ in known],
        "thresholds": [run.staleness_threshold for run, _ in known],
        "dep_ids": [dep for _, dep in known],
        "dep_components": [facts[dep][0] for _, dep in known],
        "dep_starts": [facts[dep][1] for _, dep in known],
        "components": sorted({facts[dep][0] for _, dep in known}),
        "lower_us": min(facts[dep][1] for _, dep in known),
        "upper_us": max(facts[run.id][1] for run, _ in known),
    }
    for run_id, messages in store.query(sql.load("staleness"), parameters).rows:
        by_id[run_id].stale.extend(messages)
