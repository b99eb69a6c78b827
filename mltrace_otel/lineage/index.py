"""An in-memory lineage index for processes that walk lineage more than once.

chDB answers any table read in about 5 ms, so a walk that asks the store once per level
costs ~5 ms a level however small the answer. A process that walks lineage repeatedly (a
notebook, a dashboard backend, review over many flagged outputs) instead loads, once, every
fact the SPEC 3.3 rule needs into sorted numpy arrays and keeps them current by loading only
rows logged since its watermark (segments, merged as they accumulate). Lookups are binary
searches, vectorised over a whole walk level. Per run it holds its id and start (16 bytes),
its output rows (48 bytes each), input rows (36 bytes each), span links (20 bytes each)
and ``set_upstream`` names; for the components some run names with ``set_upstream`` (only
those), their runs (32 bytes each); forward walks (impact, review) add 16 bytes per input
row, per link and per output row. An SDK-logged chain (1 input, 1 output, 1 link a run)
measured ~106 bytes a run, ~150 once walked forward.

Pointer names and versions are keyed by the first 8 bytes of their MD5 (the same key the
SQL computes), run ids by their 64-bit span id.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from mltrace_otel.store import Store, sql

_MERGE_SEGMENTS = 4
"""Segments kept before the newest ones are merged (lookups visit every segment)."""


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
    """Every run of the segment (sorted)."""
    run_start: np.ndarray

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
            links["Run"][links["Position"] <= 1], links["StartNs"][links["Position"] <= 1],
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
        orders["run_"] = np.argsort(self.run)
        return type(self)(**{
            name: values[orders["run_" if name == "run" else name[: name.index("_") + 1]]]
            for name, values in columns.items()
        })

    @property
    def size(self) -> int:
        return len(self.out_run) + len(self.in_run) + len(self.link_run) + len(self.up_run)

    def latest_producers(
        self, pointer: np.ndarray, version: np.ndarray, start: np.ndarray, exclude: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per query row: whether this segment (with output rows) has a producer (the
        latest that wrote the pointer, at the version when nonzero, started no later than
        ``start``, other than ``exclude``), and that producer's row."""
        low = np.searchsorted(self.out_pointer, pointer, "left")
        high = np.searchsorted(self.out_pointer, pointer, "right")
        first, last = low.copy(), high.copy()  # binary search of start within [low, high)
        while True:
            active = first < last
            if not active.any():
                break
            middle = (first + last) // 2
            earlier = self.out_start[np.where(active, middle, 0)] <= start
            first = np.where(active & earlier, middle + 1, first)
            last = np.where(active & ~earlier, middle, last)
        row = first - 1
        while True:  # step back over the excluded run and other versions
            valid = row >= low
            at = np.where(valid, row, 0)
            skip = valid & (
                (self.out_run[at] == exclude) | ((version != 0) & (self.out_version[at] != version))
            )
            if not skip.any():
                return valid, at
            row = np.where(skip, row - 1, row)

    def starts(self, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per run: whether this segment has it, and its start."""
        if not len(self.run):
            return np.zeros(len(runs), bool), np.zeros(len(runs), np.int64)
        found, at = _find(self.run, runs)
        return found, self.run_start[at]

    @functools.cached_property
    def outputs_by_run(self) -> tuple[np.ndarray, np.ndarray]:
        """Output rows by run, continuation spans' too (forward lineage): the sorted runs
        and the pointers they wrote."""
        order = np.argsort(self.out_run, kind="stable")
        return self.out_run[order], self.out_pointer[order]

    @functools.cached_property
    def by_pointer(self) -> tuple[np.ndarray, np.ndarray]:
        """Input rows by pointer (forward lineage): the sorted pointers and their rows."""
        order = np.argsort(self.in_pointer, kind="stable")
        return self.in_pointer[order], order

    @functools.cached_property
    def by_target(self) -> tuple[np.ndarray, np.ndarray]:
        """Link rows by target run: the sorted targets and their rows."""
        order = np.argsort(self.link_target, kind="stable")
        return self.link_target[order], order

    def consumers(
        self, pointers: np.ndarray, components: Sequence[str], targets: np.ndarray
    ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """(run, start) arrays of the runs that read one of ``pointers``, name one of
        ``components`` with set_upstream, or link to one of ``targets``."""
        keys, rows = self.by_pointer
        readers = rows[_gather(keys, pointers)[1]]
        keys, rows = self.by_target
        linking = rows[_gather(keys, targets)[1]]
        linkers = np.sort(self.link_run[linking])  # searched in key order: ~3x faster at 10^7
        naming = np.isin(self.up_component, list(components)) if len(self.up_run) else []
        return (
            (self.in_run[readers], self.in_start[readers]),
            (linkers, self.run_start[np.searchsorted(self.run, linkers)]),
            (self.up_run[naming], self.up_start[naming]),
        )

    def read_since(self, pointer: np.ndarray, start: np.ndarray, exclude: np.ndarray) -> np.ndarray:
        """Per query: whether a run other than ``exclude`` that started no earlier than
        ``start`` read ``pointer``."""
        keys, rows = self.by_pointer
        owner, row = _gather(keys, pointer)
        row = rows[row]
        hit = (self.in_start[row] >= start[owner]) & (self.in_run[row] != exclude[owner])
        found = np.zeros(len(pointer), bool)
        found[owner[hit]] = True
        return found


def _find(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the sorted, non-empty array ``keys``: per wanted key, whether it is there and the
    row where it is (or would be, clipped to the last row)."""
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return keys[at] == wanted, at


def _gather(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the sorted array ``keys``: (index into ``wanted``, row) of every row whose key is
    in ``wanted``."""
    order = np.argsort(wanted, kind="stable")  # searches in key order stay in cache
    wanted = wanted[order]
    low = np.searchsorted(keys, wanted, "left")
    counts = np.searchsorted(keys, wanted, "right") - low
    owners = np.repeat(order, counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return owners, np.repeat(low, counts) + offsets


def _later(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> np.ndarray:
    """Row-wise: rank ``a`` > rank ``b`` (tuples of arrays compared lexicographically)."""
    result = np.zeros(len(a[0]), bool)
    equal = np.ones(len(a[0]), bool)
    for left, right in zip(a, b):
        result |= equal & (left > right)
        equal &= left == right
    return result


class _ComponentRuns:
    """Runs of one component sorted by (start, end, logged, run): the latest run started no
    later than a time is a binary search (the set_upstream rule, SPEC 3.3, with the pointer
    rule's ties)."""

    def __init__(self) -> None:
        self.start = np.empty(0, np.int64)
        self.end = np.empty(0, np.int64)
        self.logged = np.empty(0, np.int64)
        self.run = np.empty(0, np.uint64)
        self.by_key = np.empty(0, np.uint64)
        """The same runs sorted by key (membership tests)."""

    def add(
        self, start: np.ndarray, end: np.ndarray, logged: np.ndarray, run: np.ndarray
    ) -> None:
        start = np.concatenate([self.start, start])
        end = np.concatenate([self.end, end])
        logged = np.concatenate([self.logged, logged])
        run = np.concatenate([self.run, run])
        order = np.lexsort((run, logged, end, start))
        self.start, self.end = start[order], end[order]
        self.logged, self.run = logged[order], run[order]
        self.by_key = np.sort(run)

    def has_any(self, runs: np.ndarray) -> bool:
        """Whether any of ``runs`` is a run of this component."""
        return bool(len(self.by_key)) and bool(_find(self.by_key, runs)[0].any())

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
        self._parts: list[tuple[object, ...]] | None = None
        self.generation: object = None

    def refresh(self, store: Store, generation: object) -> None:
        """Load the rows logged since the last refresh (none when no table part changed,
        as after the store was closed while idle and opened again)."""
        parts = [tuple(row) for row in store.query(sql.load("index_parts")).rows]
        if parts == self._parts:
            self.generation = generation
            return
        newest = store.columns(sql.load("index_watermark"), {"after_ns": self._watermark_ns})
        until = int(newest["LoggedNs"][0])
        if until > self._watermark_ns:
            window = {"after_ns": self._watermark_ns, "until_ns": until}
            segment, irregular = _Segment.load(store, window)
            self._irregular.update(irregular)
            self._load_component_runs(store, window, segment.up_component.tolist())
            self._add(segment)
            self._watermark_ns = until
        self._parts = parts  # listed before the watermark was read: any later part is new
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
                runs.add(rows["StartNs"][mask], rows["EndNs"][mask], rows["LoggedNs"][mask],
                         rows["Run"][mask])

    def knows(self, runs: Sequence[int]) -> list[bool]:
        """Whether the store has each run (as of the last refresh)."""
        keys = np.array(runs, np.uint64)
        found = np.zeros(len(keys), bool)
        for segment in self._segments:
            found |= segment.starts(keys)[0]
        return found.tolist()

    def needs_store(self, run: int) -> bool:
        """A run with a link that is not a span id: its dependencies come from the store."""
        return run in self._irregular

    def consumers(
        self, pointers: Sequence[int], components: Sequence[str], targets: Sequence[int],
        since_ns: int,
    ) -> list[int]:
        """Candidate consumers (forward lineage, as ``queries/consumers.sql``): runs that
        read one of ``pointers``, name one of ``components`` with set_upstream, or link to
        one of ``targets``, and started no earlier than ``since_ns``."""
        pointer = np.unique(np.array(pointers, np.uint64))
        target = np.unique(np.array(targets, np.uint64))
        found: dict[int, None] = {}
        for segment in self._segments:
            for runs, starts in segment.consumers(pointer, components, target):
                found.update(dict.fromkeys(runs[starts >= since_ns].tolist()))
        return list(found)

    def consumers_of(self, runs: Sequence[int]) -> list[int]:
        """Candidate consumers of ``runs`` (forward lineage, as ``queries/consumers.sql``
        for their outputs, components and ids), sorted: runs that read an output one of
        them wrote, name the component of one with set_upstream, or link to one, and started
        no earlier than the earliest of them."""
        keys = np.unique(np.array(runs, np.uint64))
        if not len(keys) or not self._segments:
            return []
        found = np.zeros(len(keys), bool)
        start = np.zeros(len(keys), np.int64)
        pointers = []
        for segment in self._segments:
            has, at = segment.starts(keys)
            start = np.where(has & ~found, at, start)
            found |= has
            owners, pointer = segment.outputs_by_run
            pointers.append(pointer[_gather(owners, keys)[1]])
        components = [
            name for name, named in self._components.items() if named.has_any(keys)
        ]
        since_ns = int(start[found].min()) if found.any() else 0
        return sorted(self.consumers(np.concatenate(pointers), components, keys, since_ns))

    def read_since(
        self, pointers: Sequence[int], starts: Sequence[int], excludes: Sequence[int]
    ) -> list[bool]:
        """Per query: whether a run other than the excluded one, started no earlier than
        the start, read the pointer (an output that is not final)."""
        query = (np.array(pointers, np.uint64), np.array(starts, np.int64),
                 np.array(excludes, np.uint64))
        found = np.zeros(len(query[0]), bool)
        for segment in self._segments:
            found |= segment.read_since(*query)
        return found.tolist()

    def producers(
        self,
        pointers: Sequence[int],
        versions: Sequence[int],
        starts: Sequence[int],
        excludes: Sequence[int],
    ) -> list[int | None]:
        """Per query: the latest run that wrote the pointer (at the version if nonzero),
        started no later than the start, other than the excluded run (SPEC 3.3)."""
        return self._producers(
            np.array(pointers, np.uint64), np.array(versions, np.uint64),
            np.array(starts, np.int64), np.array(excludes, np.uint64),
        )

    def _producers(
        self, pointer: np.ndarray, version: np.ndarray, start: np.ndarray, exclude: np.ndarray
    ) -> list[int | None]:
        order = np.argsort(pointer, kind="stable")  # searches in key order stay in cache
        pointer, version, start, exclude = (
            column[order] for column in (pointer, version, start, exclude)
        )
        found = np.zeros(len(pointer), bool)
        best = tuple(np.zeros(len(pointer), dtype) for dtype in (np.int64,) * 3 + (np.uint64,))
        for segment in self._segments:
            if not len(segment.out_run):
                continue
            valid, row = segment.latest_producers(pointer, version, start, exclude)
            rank = (segment.out_start[row], segment.out_end[row], segment.out_logged[row],
                    segment.out_run[row])
            better = valid & (~found | _later(rank, best))
            best = tuple(np.where(better, new, old) for new, old in zip(rank, best))
            found |= better
        run = np.zeros(len(order), np.uint64)
        run[order] = best[3]
        ok = np.zeros(len(order), bool)
        ok[order] = found
        return [key if known else None for key, known in zip(run.tolist(), ok.tolist())]

    def dependencies(self, runs: Sequence[int]) -> list[list[int]]:
        """Each run's direct dependencies (SPEC 3.3), in the store path's order: producers
        of its inputs in input order, then the runs its set_upstream names pick, then its
        links."""
        keys = np.array(runs, np.uint64)
        inputs: list[tuple[np.ndarray, ...]] = []
        links: list[tuple[np.ndarray, ...]] = []
        upstream: list[tuple[int, int, int, str]] = []
        for segment in self._segments:
            owner, row = _gather(segment.in_run, keys)
            inputs.append((owner, segment.in_position[row], segment.in_pointer[row],
                           segment.in_version[row], segment.in_start[row]))
            owner, row = _gather(segment.link_run, keys)
            links.append((owner, segment.link_position[row], segment.link_target[row]))
            owner, row = _gather(segment.up_run, keys)
            upstream.extend(zip(owner.tolist(), segment.up_position[row].tolist(),
                                segment.up_start[row].tolist(),
                                segment.up_component[row].tolist()))
        found: list[dict[int, None]] = [{} for _ in runs]
        if inputs:
            owner, position, pointer, version, start = (
                np.concatenate(column) for column in zip(*inputs)
            )
            order = np.lexsort((position, owner))
            owner = owner[order]
            producers = self._producers(pointer[order], version[order], start[order], keys[owner])
            for index, producer in zip(owner.tolist(), producers):
                if producer is not None:
                    found[index][producer] = None
        for index, _, start_ns, component in sorted(upstream):
            named = self._components.get(component)
            latest = None if named is None else named.latest(start_ns, exclude=runs[index])
            if latest is not None:
                found[index][latest] = None
        if links:
            owner, position, target = (np.concatenate(column) for column in zip(*links))
            order = np.lexsort((position, owner))
            for index, linked in zip(owner[order].tolist(), target[order].tolist()):
                if linked != runs[index]:
                    found[index][linked] = None
        return [list(item) for item in found]
