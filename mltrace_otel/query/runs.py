"""The query API (SPEC 3.4): plain Python objects from the SQL in ``queries/``."""

from __future__ import annotations

import re
import sys
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mltrace_otel import state
from mltrace_otel.lineage import dependencies as _dependencies
from mltrace_otel.lineage.downstream import RunFacts, facts_of, with_continued_outputs
from mltrace_otel.lineage.walk import depth_first
from mltrace_otel.query.models import (
    ComponentInfo,
    Run,
    micros,
    runs_from_records,
    spec_argument,
)
from mltrace_otel.query.notes import attach_notes
from mltrace_otel.query.staleness import attach_staleness
from mltrace_otel.store import Store, records
from mltrace_otel.store import sql as _sql

if TYPE_CHECKING:
    from mltrace_otel.sdk.pointers import IOPointer

MIN_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")


class NotFoundError(RuntimeError):
    """An output id, run id or component the store does not know."""


class AmbiguousRunIdError(NotFoundError):
    """A run id prefix that more than one run has."""


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
        raise AmbiguousRunIdError(
            f"run id prefix {run_id!r} is ambiguous: give more characters"
        )
    return prefix if prefix in found else found[0]


def fetch_runs(ids: Iterable[str], edges: Mapping[str, list[str]] | None = None) -> dict[str, Run]:
    """Runs by id, with their dependencies (derived unless ``edges`` already has them)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    store = _store()
    found = records.read(store, wanted)
    if edges is None:
        consumers = _dependencies.consumers_by_id(store, wanted)
        edges, _ = _dependencies.resolve(store, list(consumers.values()))
    runs = {run.id: run for run in runs_from_records(found)}
    return with_dependencies(store, runs, edges)


def with_dependencies(
    store: Store, runs: dict[str, Run], edges: Mapping[str, list[str]]
) -> dict[str, Run]:
    """``runs`` with their dependencies from ``edges``, staleness and notes loaded on first
    access."""
    for run_id, run in runs.items():
        run.dependencies = list(edges.get(run_id, []))
    load_details = _DetailsLoader(store, runs.values())
    for run in runs.values():
        run._load_details = load_details
    return runs


READ_AHEAD_RUNS = 256
"""Runs an impact walk reached are read in the background once this many wait; smaller
levels are read with the rest at the end (a query for one run costs ~4 ms at 10^6 runs, and
one query for many runs less than several for their parts)."""


class RunRows:
    """Full runs read as a downstream walk reaches them, with the facts the walk needs: a
    level is read while the walk finds the next (``soon``), the rest when the walk asks for
    facts, and the runs need not be read again once the walk ends."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runs: dict[str, Run] = {}
        """Every run read so far, by id (without dependencies)."""
        self._pending: list[Callable[[], list[list[Any]]]] = []
        self._waiting: list[str] = []

    def soon(self, ids: Sequence[str]) -> None:
        """Begin reading runs ``ids`` (a level the walk just reached) once enough wait."""
        self._waiting += ids
        if len(self._waiting) >= READ_AHEAD_RUNS:
            self._pending.append(records.read_soon(self.store, self._waiting))
            self._waiting = []

    def facts(self, ids: Sequence[str]) -> dict[str, RunFacts]:
        """What the walk needs of runs by id (runs the store does not have are left out)."""
        found = [record for collect in self._pending for record in collect()]
        self._pending, self._waiting = [], []
        have = {span_id for span_id, _ in found}
        missing = [run for run in ids if run not in have]
        if missing:
            found += records.read(self.store, missing)
        self.runs.update((run.id, run) for run in runs_from_records(found))
        facts = {span_id: facts_of(span_id, record) for span_id, record in found}
        return with_continued_outputs(self.store, facts)


class _DetailsLoader:
    """Loads staleness and notes for every run of one result at once, on first access.

    It holds the runs weakly: they refer to it, so strong references would make every result
    a reference cycle that only the cyclic collector frees (a gen-2 pass of ~1 s after a
    review of 10^4 runs).
    """

    def __init__(self, store: Store, runs: Iterable[Run]) -> None:
        self._store = store
        self._runs = [weakref.ref(run) for run in runs]

    def __call__(self) -> None:
        batch = [run for run in (ref() for ref in self._runs) if run is not None]
        for run in batch:
            run._load_details = None
        attach_staleness(self._store, batch)
        attach_notes(self._store, batch)


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
    limit: int | None = 10,
    date_lower: datetime | None = None,
    date_upper: datetime | None = None,
) -> list[Run]:
    """Runs of a component, newest first; ``limit=None`` returns all of them (as in mltrace)."""
    parameters = {
        "component": component_name,
        "lower_us": _bound_us(date_lower, -(2**63)),
        "upper_us": _bound_us(date_upper, 2**63 - 1),
        "limit": _count(limit),
    }
    ids = [row[0] for row in _store().query(_sql.load("history"), parameters).rows]
    return _ordered_runs(ids)


def get_recent_run_ids(limit: int | None = 5, last_run_id: str | None = None) -> list[str]:
    """Ids of the most recent runs of any component, newest first (``limit=None``: all).
    With ``last_run_id`` (mltrace's paging), the runs after that one in the same order."""
    count = _count(limit)
    if last_run_id:
        last = resolve_run_id(last_run_id)
        rows = _store().query(_sql.load("recent_before"), {"limit": count, "last": last}).rows
    else:
        store, sql = _store(), _sql.load("recent")
        candidates = _EVERY_ROW if count == _ALL else 2 * count + 16
        rows = store.query(sql, {"limit": count, "candidates": candidates}).rows
        if len(rows) < count:  # duplicated spans among the newest rows, or a small store
            rows = store.query(sql, {"limit": count, "candidates": _EVERY_ROW}).rows
    return [row[0] for row in rows]


_EVERY_ROW = 2**64 - 1
"""``LIMIT`` that keeps every row (UInt64's largest value)."""


_ALL = 2**63 - 1
"""LIMIT for "every row" (mltrace's ``limit=None``)."""


def _count(limit: int | None) -> int:
    """A ``limit`` argument as a LIMIT: None or anything past the largest is every row."""
    return _ALL if limit is None else min(max(int(limit), 0), _ALL)


def _bound_us(value: datetime | None, default: int) -> int:
    """A date bound in microseconds since the epoch (naive: UTC; any year); mltrace's
    ``datetime.min``/``datetime.max`` are open bounds."""
    if value is None or value in (datetime.min, datetime.max):
        return default
    if not isinstance(value, datetime):
        raise TypeError(f"date bounds are datetimes, got {type(value).__name__}")
    return micros(value)


# -- lineage -------------------------------------------------------------------------------


def _upstream_graph(output_id: str) -> tuple[str, dict[str, list[str]], dict[str, Run]]:
    """The latest run that produced ``output_id``, the dependency edges of every run upstream
    of it, and those runs."""
    lineage = _dependencies.Lineage(_store())
    root = lineage.latest_producer(output_id)
    if root is None:
        raise NotFoundError(f"no run produced output {output_id!r}")
    edges = lineage.upstream_closure([root])
    return root, edges, fetch_runs(edges, edges)


def backtrace(output_id: str) -> list[tuple[int, Run]]:
    """The runs that produced ``output_id``: ``(level, run)`` pairs, depth-first.

    Level 0 is the latest run that wrote ``output_id``; each run appears once, at the level
    where the depth-first walk (newest dependency first) meets it first.
    """
    root, edges, runs = _upstream_graph(output_id)
    return depth_first(
        [root], edges, runs, key=lambda child: (runs[child].start_timestamp, child), descending=True
    )


trace = backtrace


def web_trace(output_id: str) -> list[dict[str, Any]]:
    """mltrace's UI tree of ``output_id``'s trace: one node for the latest run that produced
    it, whose ``childNodes`` are its outputs and then, recursively, its dependencies."""
    root, edges, runs = _upstream_graph(output_id)
    return [_web_node(runs, edges, root, set())]


_ICONS = {"DATA": "database", "MODEL": "function", "ENDPOINT": "flow-end"}


def _web_node(
    runs: Mapping[str, Run], edges: Mapping[str, list[str]], run_id: str, path: set[str]
) -> dict[str, Any]:
    run = runs[run_id]
    node_id = f"componentrun_{run_id}"
    children: list[dict[str, Any]] = []
    for pointer in sorted(run.output_pointers, key=lambda item: item.name):
        child = {
            "id": f"iopointer_{pointer.name}",
            "label": pointer.name,
            "hasCaret": False,
            "parent": node_id,
        }
        icon = _ICONS.get(str(pointer.pointer_type))
        if icon:
            child["icon"] = icon
        children.append(child)
    for dependency in sorted(edges.get(run_id, [])):
        if dependency in runs and dependency not in path:
            children.append(_web_node(runs, edges, dependency, path | {run_id}))
    return {
        "id": node_id,
        "label": run.component_name,
        "hasCaret": True,
        "isExpanded": True,
        "stale": list(run.stale),
        "childNodes": children,
    }


# -- components ----------------------------------------------------------------------------


def _components(name: str = "", tag: str = "", owner: str = "") -> list[ComponentInfo]:
    parameters = {"name": name, "tag": tag, "owner": owner}
    return [
        ComponentInfo(name=row[0], owner=row[1], description=row[2], tags=list(row[3]))
        for row in _store().query(_sql.load("components"), parameters).rows
    ]


def get_component_information(
    name: str | None = None, *, component_name: str | None = None
) -> ComponentInfo:
    """Name, description, owner and tags of a component (``component_name=`` is mltrace's
    name for ``name``)."""
    component_name = spec_argument(name, component_name, ("name", "component_name"))
    found = _components(name=component_name) if component_name else []
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


get_all_tags = get_tags
"""mltrace 0.17's name for ``get_tags``."""


# -- staleness and notes ------------------------------------------------------------------


def get_stale_runs(component_name: str | None = None) -> list[Run]:
    """The latest run of each component (or of ``component_name``) when it is stale."""
    rows = _store().query(_sql.load("latest_runs"), {"component": component_name or ""})
    ids = [row[0] for row in rows.rows]
    runs = fetch_runs(ids)
    return [runs[run_id] for run_id in ids if run_id in runs and runs[run_id].stale]


def get_io_pointer(
    io_pointer_id: str, io_pointer_val: Any = None, create: bool = True
) -> IOPointer:
    """mltrace's pointer lookup: an ``IOPointer`` for the name (with ``io_pointer_val``'s
    content hash as version). With ``create=False`` a name no run read or wrote raises
    ``NotFoundError`` (a ``RuntimeError``, as in mltrace)."""
    if not create:
        known = _store().query(_sql.load("pointer_known"), {"pointer": io_pointer_id}).rows
        if not known or not known[0][0]:
            raise NotFoundError(
                f"IOPointer with name {io_pointer_id!r} does not exist; pass create=True to "
                "get a new one"
            )
    from mltrace_otel.sdk.pointers import IOPointer  # the logging side: off a CLI's imports

    return IOPointer(io_pointer_id, io_pointer_val)


def clean_db() -> None:
    """mltrace's ``clean_db``: delete every run, component, flag and note in the configured
    store (the tables stay; the schema version is kept)."""
    store = _store()
    tables = [row[0] for row in store.query(_sql.load("data_tables")).rows]
    for table in tables:
        store.command(f"TRUNCATE TABLE IF EXISTS `{table}`")
    store.touch()
    links = sys.modules.get("mltrace_otel.sdk.links")  # not loaded: this process logged nothing
    if links is not None:
        links.registry.clear()


def add_notes_to_component_run(run_id: str, notes: str) -> str:
    """Add notes to a logged run (id or unique prefix); returns the run's notes now."""
    if not isinstance(notes, str) or not notes.strip():
        raise ValueError("notes must be a non-empty string")
    full_id = resolve_run_id(run_id)
    _store().command(_sql.load("add_note"), {"run_id": full_id, "notes": notes})
    return get_component_run_information(full_id).notes
