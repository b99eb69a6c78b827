"""The query API (SPEC 3.4): plain Python objects from the SQL in ``queries/``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from mltrace_otel import state
from mltrace_otel.lineage import dependencies as _dependencies
from mltrace_otel.lineage.walk import depth_first
from mltrace_otel.query.models import ComponentInfo, Run, run_from_row
from mltrace_otel.query.notes import attach_notes
from mltrace_otel.query.staleness import attach_staleness
from mltrace_otel.store import Store
from mltrace_otel.store import sql as _sql

MIN_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")
_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(2262, 1, 1, tzinfo=timezone.utc)


class NotFoundError(RuntimeError):
    """An output id, run id or component the store does not know."""


def _store() -> Store:
    return state.store()


def query(sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of any SQL on the configured store; bind values as ``{name:Type}`` parameters."""
    store = _store()
    rows = store.query(sql, parameters).rows
    store.touch()  # the SQL may have written: lineage indexes reload what changed
    return [tuple(row) for row in rows]


# -- runs ----------------------------------------------------------------------------------


def resolve_run_id(run_id: str) -> str:
    """The full run id for an id or a unique prefix of at least 6 hex characters."""
    prefix = str(run_id).strip().lower()
    if len(prefix) < MIN_PREFIX or not _HEX.match(prefix):
        raise NotFoundError(
            f"{run_id!r} is not a run id: give the span id in hex or a unique prefix of at "
            f"least {MIN_PREFIX} characters"
        )
    found = [row[0] for row in _store().query(_sql.load("resolve_run_id"), {"prefix": prefix}).rows]
    if not found:
        raise NotFoundError(f"no run with id {run_id!r}")
    if len(found) > 1 and prefix not in found:
        raise NotFoundError(f"run id prefix {run_id!r} is ambiguous: give more characters")
    return prefix if prefix in found else found[0]


def fetch_runs(ids: Iterable[str], edges: Mapping[str, list[str]] | None = None) -> dict[str, Run]:
    """Runs by id, with their dependencies (derived unless ``edges`` already has them)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    store = _store()
    rows = store.query(_sql.load("runs"), {"ids": wanted}).dicts()
    if edges is None:
        consumers = [
            _dependencies.consumer(
                row["SpanId"], row["StartNs"], row["Inputs"], row["InputVersions"],
                row["Upstream"], row["LinkSpanIds"],
            )
            for row in rows
        ]
        edges, _ = _dependencies.resolve(store, consumers)
    runs = {row["SpanId"]: run_from_row(row) for row in rows}
    for run_id, run in runs.items():
        run.dependencies = list(edges.get(run_id, []))
    batch = list(runs.values())

    def load_details() -> None:
        for run in batch:
            run._load_details = None
        attach_staleness(store, batch)
        attach_notes(store, batch)

    for run in batch:
        run._load_details = load_details
    return runs


def _ordered_runs(ids: list[str]) -> list[Run]:
    runs = fetch_runs(ids)
    return [runs[run_id] for run_id in ids if run_id in runs]


def get_component_run_information(run_id: str) -> Run:
    """One run by id (or unique prefix)."""
    full_id = resolve_run_id(run_id)
    runs = fetch_runs([full_id])
    if full_id not in runs:
        raise NotFoundError(f"no run with id {run_id!r}")
    return runs[full_id]


def get_history(
    component_name: str,
    limit: int = 10,
    date_lower: datetime | None = None,
    date_upper: datetime | None = None,
) -> list[Run]:
    """Runs of a component, newest first."""
    parameters = {
        "component": component_name,
        "lower": date_lower or _EARLIEST,
        "upper": date_upper or _LATEST,
        "limit": max(int(limit), 0),
    }
    ids = [row[0] for row in _store().query(_sql.load("history"), parameters).rows]
    return _ordered_runs(ids)


def get_recent_run_ids(limit: int = 5) -> list[str]:
    """Ids of the most recent runs of any component, newest first."""
    rows = _store().query(_sql.load("recent"), {"limit": max(int(limit), 0)}).rows
    return [row[0] for row in rows]


# -- lineage -------------------------------------------------------------------------------


def backtrace(output_id: str) -> list[tuple[int, Run]]:
    """The runs that produced ``output_id``: ``(level, run)`` pairs, depth-first.

    Level 0 is the latest run that wrote ``output_id``; each run appears once, at the level
    where the depth-first walk (newest dependency first) meets it first.
    """
    lineage = _dependencies.Lineage(_store())
    root = lineage.latest_producer(output_id)
    if root is None:
        raise NotFoundError(f"no run produced output {output_id!r}")
    edges = lineage.upstream_closure([root])
    runs = fetch_runs(edges, edges)
    return depth_first(
        [root], edges, runs, key=lambda child: (runs[child].start_timestamp, child), descending=True
    )


trace = backtrace


# -- components ----------------------------------------------------------------------------


def _components(name: str = "", tag: str = "", owner: str = "") -> list[ComponentInfo]:
    parameters = {"name": name, "tag": tag, "owner": owner}
    return [
        ComponentInfo(name=row[0], owner=row[1], description=row[2], tags=list(row[3]))
        for row in _store().query(_sql.load("components"), parameters).rows
    ]


def get_component_information(component_name: str) -> ComponentInfo:
    """Name, description, owner and tags of a component."""
    found = _components(name=component_name)
    if not found:
        raise NotFoundError(f"no component named {component_name!r}")
    return found[0]


def get_components(tag: str = "", owner: str = "") -> list[ComponentInfo]:
    """All components, optionally only those with ``tag`` and/or ``owner``."""
    return _components(tag=tag or "", owner=owner or "")


def get_components_with_tag(tag: str) -> list[ComponentInfo]:
    return get_components(tag=tag)


def get_components_with_owner(owner: str) -> list[ComponentInfo]:
    return get_components(owner=owner)


def get_tags() -> list[str]:
    """Every tag any component has."""
    return [row[0] for row in _store().query(_sql.load("tags")).rows]


# -- staleness and notes ------------------------------------------------------------------


def get_stale_runs(component_name: str | None = None) -> list[Run]:
    """The latest run of each component (or of ``component_name``) when it is stale."""
    rows = _store().query(_sql.load("latest_runs"), {"component": component_name or ""})
    ids = [row[0] for row in rows.rows]
    runs = fetch_runs(ids)
    return [runs[run_id] for run_id in ids if run_id in runs and runs[run_id].stale]


def add_notes_to_component_run(run_id: str, notes: str) -> str:
    """Add notes to a logged run (id or unique prefix); returns the run's notes now."""
    if not isinstance(notes, str) or not notes.strip():
        raise ValueError("notes must be a non-empty string")
    full_id = resolve_run_id(run_id)
    _store().command(_sql.load("add_note"), {"run_id": full_id, "notes": notes})
    return get_component_run_information(full_id).notes
