"""An in-memory lineage index for processes that walk lineage more than once.

chDB answers any table read in about 5 ms, so a walk that asks the store once per level
costs ~5 ms a level however small the answer. A process that walks lineage repeatedly (a
notebook, a dashboard backend, review over many flagged outputs) instead loads the pointer
index once into sorted numpy arrays (about 80 bytes a pointer row) and keeps it current by
loading only rows logged since its watermark. Lookups are binary searches.

Pointer names and versions are keyed by the first 8 bytes of their MD5 (the same key the
SQL computes), run ids by their 64-bit span id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mltrace_otel.store import Store, sql

_MERGE_SEGMENTS = 4


@dataclass
class _Segment:
    """Rows loaded in one refresh: outputs sorted by (pointer, start, end, logged, run),
    inputs sorted by run."""

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

    @classmethod
    def load(cls, store: Store, after_ns: int, until_ns: int) -> _Segment:
        parameters = {"after_ns": after_ns, "until_ns": until_ns}
        out = store.columns(sql.load("index_outputs"), parameters)
        inp = store.columns(sql.load("index_inputs"), parameters)
        return cls(
            out["PointerKey"], out["VersionKey"], out["Run"], out["StartNs"], out["EndNs"],
            out["LoggedNs"], inp["Run"], inp["StartNs"], inp["PointerKey"], inp["VersionKey"],
        )

    @classmethod
    def merge(cls, segments: list[_Segment]) -> _Segment:
        joined = {
            name: np.concatenate([getattr(segment, name) for segment in segments])
            for name in cls.__dataclass_fields__
        }
        out_order = np.lexsort((
            joined["out_run"], joined["out_logged"], joined["out_end"], joined["out_start"],
            joined["out_pointer"],
        ))
        in_order = np.argsort(joined["in_run"], kind="stable")
        return cls(**{
            name: values[out_order if name.startswith("out_") else in_order]
            for name, values in joined.items()
        })

    @property
    def size(self) -> int:
        return len(self.out_run) + len(self.in_run)

    def latest_producer(
        self, pointer: int, version: int, start_ns: int, exclude: int
    ) -> tuple[tuple[int, int, int, int], int] | None:
        key = np.uint64(pointer)
        low = int(np.searchsorted(self.out_pointer, key, "left"))
        high = int(np.searchsorted(self.out_pointer, key, "right"))
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

    def inputs(self, run: int) -> tuple[int, list[tuple[int, int]]] | None:
        key = np.uint64(run)
        low = int(np.searchsorted(self.in_run, key, "left"))
        high = int(np.searchsorted(self.in_run, key, "right"))
        if low == high:
            return None
        pairs = list(zip(self.in_pointer[low:high].tolist(), self.in_version[low:high].tolist()))
        return int(self.in_start[low]), list(dict.fromkeys(pairs))


class LineageIndex:
    """Producers by pointer and inputs by run, for every run in the store."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._watermark_ns = -1
        self._extra: set[int] = set()
        self.generation: object = None

    def refresh(self, store: Store, generation: object) -> None:
        """Load the rows logged since the last refresh."""
        until = int(store.columns(sql.load("index_watermark"), {})["LoggedNs"][0])
        if until > self._watermark_ns:
            window = {"after_ns": self._watermark_ns, "until_ns": until}
            extra = store.columns(sql.load("index_extra_runs"), window)
            self._extra.update(int(key) for key in extra["Run"])
            self._segments.append(_Segment.merge([_Segment.load(store, **window)]))
            if len(self._segments) > _MERGE_SEGMENTS:
                self._segments = [_Segment.merge(self._segments)]
            self._watermark_ns = until
        self.generation = generation

    def needs_store(self, run: int) -> bool:
        """Runs with links or set_upstream dependencies are resolved by the store."""
        return run in self._extra

    def inputs(self, run: int) -> tuple[int, list[tuple[int, int]]]:
        """Start time and (pointer, version) keys of a run's inputs."""
        for segment in self._segments:
            found = segment.inputs(run)
            if found is not None:
                return found
        return 0, []

    def producer(self, pointer: int, version: int, start_ns: int, exclude: int = -1) -> int | None:
        """The latest run that wrote ``pointer`` (at ``version`` if nonzero), started no
        later than ``start_ns``, other than ``exclude`` (SPEC 3.3)."""
        best: tuple[tuple[int, int, int, int], int] | None = None
        for segment in self._segments:
            found = segment.latest_producer(pointer, version, start_ns, exclude)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return None if best is None else best[1]
