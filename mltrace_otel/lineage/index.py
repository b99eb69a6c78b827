"""An in-memory lineage index for processes that walk lineage more than once.

chDB answers any table read in about 5 ms, so a walk that asks the store once per level
costs ~5 ms a level however small the answer. A process that walks lineage repeatedly (a
notebook, a dashboard backend, review over many flagged outputs) instead loads, once, every
fact the SPEC 3.3 rule needs into sorted numpy arrays and keeps them current by loading only
rows logged since its watermark (segments, merged as they accumulate). Lookups are binary
searches. Per run it holds its output rows (48 bytes each), input rows (32 bytes each),
span links (24 bytes each) and ``set_upstream`` names; for the components some run names
with ``set_upstream`` (only those), their runs (24 bytes each). About 150 bytes a run of a
typical SDK-logged chain (1 input, 1 output, 1 link).

Pointer names and versions are keyed by the first 8 bytes of their MD5 (the same key the
SQL computes), run ids by their 64-bit span id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields

import numpy as np

from mltrace_otel.store import Store, sql

_MERGE_SEGMENTS = 4
"""Segments kept before the newest ones are merged (lookups visit every segment)."""

_Rank = tuple[int, int, int, int]


def _span(keys: np.ndarray, key: int) -> tuple[int, int]:
    """The [low, high) range of ``key`` in the sorted array ``keys``."""
    value = np.uint64(key)
    return int(np.searchsorted(keys, value, "left")), int(np.searchsorted(keys, value, "right"))


@dataclass
class _Segment:
    """Rows loaded in one refresh (or several, merged): outputs sorted by (pointer, start,
    end, logged, run); inputs, links and upstream names sorted by (run, position)."""

    out_pointer: np.ndarray
    out_version: np.ndarray
    out_run: np.ndarray
    out_start: np.ndarray
    out_end: np.ndarray
    out_logged: np.ndarray
    in_run: np.ndarray
    in_start: np.ndarray
    in_pointer: np.ndarray
    in_version: np.ndarray
    in_position: np.ndarray
    link_run: np.ndarray
    link_target: np.ndarray
    link_position: np.ndarray
    up_run: np.ndarray
    up_start: np.ndarray
    up_component: np.ndarray
    up_position: np.ndarray
    run: np.ndarray
    """Every run of the segment (sorted, once each)."""

    @classmethod
    def load(cls, store: Store, window: dict[str, int]) -> tuple[_Segment, set[int]]:
        """The rows logged in ``window``, and the runs with a link that is not a span id."""
        out = store.columns(sql.load("index_outputs"), window)
        inp = store.columns(sql.load("index_inputs"), window)
        links = store.columns(sql.load("index_links"), window)
        up = store.columns(sql.load("index_upstream"), window)
        irregular = {int(run) for run in links["Run"][links["Canonical"] == 0]}
        linked = links["Position"] > 0
        segment = cls(
            out["PointerKey"], out["VersionKey"], out["Run"], out["StartNs"], out["EndNs"],
            out["LoggedNs"],
            inp["Run"], inp["StartNs"], inp["PointerKey"], inp["VersionKey"], inp["Position"],
            links["Run"][linked], links["Target"][linked], links["Position"][linked],
            up["Run"], up["StartNs"], up["Component"].astype(object), up["Position"],
            links["Run"],
        )
        return segment.sorted(), irregular

    @classmethod
    def merge(cls, segments: list[_Segment]) -> _Segment:
        if len(segments) == 1:
            return segments[0]
        joined = {
            item.name: np.concatenate([getattr(segment, item.name) for segment in segments])
            for item in fields(cls)
        }
        return cls(**joined).sorted()

    def sorted(self) -> _Segment:
        """The same rows in lookup order."""
        columns = {item.name: getattr(self, item.name) for item in fields(self)}
        orders = {
            "out_": np.lexsort((
                self.out_run, self.out_logged, self.out_end, self.out_start, self.out_pointer,
            )),
            "in_": np.lexsort((self.in_position, self.in_run)),
            "link_": np.lexsort((self.link_position, self.link_run)),
            "up_": np.lexsort((self.up_position, self.up_run)),
        }
        columns["run"] = np.unique(self.run)
        orders["run"] = slice(None)
        return type(self)(**{
            name: values[orders[name[: name.find("_") + 1] or name]]
            for name, values in columns.items()
        })

    @property
    def size(self) -> int:
        return len(self.out_run) + len(self.in_run) + len(self.link_run) + len(self.up_run)

    def latest_producer(
        self, pointer: int, version: int, start_ns: int, exclude: int
    ) -> tuple[_Rank, int] | None:
        low, high = _span(self.out_pointer, pointer)
        if low == high:
            return None
        starts = self.out_start[low:high]
        index = low + int(np.searchsorted(starts, np.int64(start_ns), "right")) - 1
        while index >= low and (
            self.out_run[index] == exclude or (version and self.out_version[index] != version)
        ):
            index -= 1
        if index < low:
            return None
        rank = (
            int(self.out_start[index]), int(self.out_end[index]),
            int(self.out_logged[index]), int(self.out_run[index]),
        )
        return rank, int(self.out_run[index])

    def knows(self, run: int) -> bool:
        low, high = _span(self.run, run)
        return low < high

    def facts(self, run: int, found: _RunFacts) -> None:
        """Add what this segment holds of ``run`` to ``found``."""
        low, high = _span(self.in_run, run)
        if low < high:
            found.start_ns = int(self.in_start[low])
            found.inputs.extend(zip(
                self.in_position[low:high].tolist(),
                self.in_pointer[low:high].tolist(),
                self.in_version[low:high].tolist(),
            ))
        low, high = _span(self.link_run, run)
        if low < high:
            found.links.extend(zip(
                self.link_position[low:high].tolist(), self.link_target[low:high].tolist()
            ))
        low, high = _span(self.up_run, run)
        if low < high:
            found.start_ns = int(self.up_start[low])
            found.upstream.extend(zip(
                self.up_position[low:high].tolist(), self.up_component[low:high].tolist()
            ))


@dataclass
class _RunFacts:
    """A run's lineage facts gathered from every segment, as (position, ...) tuples."""

    start_ns: int = 0
    inputs: list[tuple[int, int, int]] = field(default_factory=list)
    links: list[tuple[int, int]] = field(default_factory=list)
    upstream: list[tuple[int, str]] = field(default_factory=list)


class _ComponentRuns:
    """Runs of one component sorted by (start, end, run): the latest run started no later
    than a time is a binary search (the set_upstream rule, SPEC 3.3)."""

    def __init__(self) -> None:
        self.start = np.empty(0, np.int64)
        self.end = np.empty(0, np.int64)
        self.run = np.empty(0, np.uint64)

    def add(self, start: np.ndarray, end: np.ndarray, run: np.ndarray) -> None:
        start = np.concatenate([self.start, start])
        end = np.concatenate([self.end, end])
        run = np.concatenate([self.run, run])
        order = np.lexsort((run, end, start))
        self.start, self.end, self.run = start[order], end[order], run[order]

    def latest(self, start_ns: int, exclude: int) -> int | None:
        index = int(np.searchsorted(self.start, np.int64(start_ns), "right")) - 1
        while index >= 0 and self.run[index] == exclude:
            index -= 1
        return None if index < 0 else int(self.run[index])


class LineageIndex:
    """Producers by pointer, and inputs, links and set_upstream names by run, for every run
    in the store."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._watermark_ns = -1
        self._irregular: set[int] = set()
        self._components: dict[str, _ComponentRuns] = {}
        self.generation: object = None

    def refresh(self, store: Store, generation: object) -> None:
        """Load the rows logged since the last refresh."""
        until = int(store.columns(sql.load("index_watermark"), {})["LoggedNs"][0])
        if until > self._watermark_ns:
            window = {"after_ns": self._watermark_ns, "until_ns": until}
            segment, irregular = _Segment.load(store, window)
            self._irregular.update(irregular)
            self._load_component_runs(store, window, segment.up_component.tolist())
            self._add(segment)
            self._watermark_ns = until
        self.generation = generation

    def _add(self, segment: _Segment) -> None:
        self._segments.append(segment)
        if len(self._segments) > _MERGE_SEGMENTS:
            base, newer = self._segments[0], _Segment.merge(self._segments[1:])
            if newer.size * 4 >= base.size:
                self._segments = [_Segment.merge([base, newer])]
            else:
                self._segments = [base, newer]

    def _load_component_runs(
        self, store: Store, window: dict[str, int], named: Iterable[str]
    ) -> None:
        new = sorted(set(named) - set(self._components))
        if not new and not self._components:
            return
        parameters = {**window, "new": new, "known": sorted(self._components)}
        rows = store.columns(sql.load("index_component_runs"), parameters)
        for name in new:
            self._components[name] = _ComponentRuns()
        names = rows["Component"].astype(object)
        for name, runs in self._components.items():
            mask = names == name
            if mask.any():
                runs.add(rows["StartNs"][mask], rows["EndNs"][mask], rows["Run"][mask])

    def knows(self, run: int) -> bool:
        """Whether the store has run ``run`` (as of the last refresh)."""
        return any(segment.knows(run) for segment in self._segments)

    def needs_store(self, run: int) -> bool:
        """A run with a link that is not a span id: its dependencies come from the store."""
        return run in self._irregular

    def producer(self, pointer: int, version: int, start_ns: int, exclude: int = -1) -> int | None:
        """The latest run that wrote ``pointer`` (at ``version`` if nonzero), started no
        later than ``start_ns``, other than ``exclude`` (SPEC 3.3)."""
        best: tuple[_Rank, int] | None = None
        for segment in self._segments:
            found = segment.latest_producer(pointer, version, start_ns, exclude)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return None if best is None else best[1]

    def dependencies(self, run: int) -> list[int]:
        """A run's direct dependencies (SPEC 3.3), in the store path's order: producers of
        its inputs in input order, then the runs its set_upstream names pick, then links."""
        facts = _RunFacts()
        for segment in self._segments:
            segment.facts(run, facts)
        found: dict[int, None] = {}
        for _, pointer, version in sorted(dict.fromkeys(facts.inputs)):
            producer = self.producer(pointer, version, facts.start_ns, exclude=run)
            if producer is not None:
                found[producer] = None
        for _, component in sorted(dict.fromkeys(facts.upstream)):
            runs = self._components.get(component)
            latest = None if runs is None else runs.latest(facts.start_ns, exclude=run)
            if latest is not None:
                found[latest] = None
        for _, target in sorted(dict.fromkeys(facts.links)):
            if target != run:
                found[target] = None
        return list(found)
