"""Review and impact build ~10^5 containers with the cyclic collector paused
(``mltrace_otel.store.bulk.gc_paused``): what they return goes straight to the oldest
generation, so the young collections after the call do not scan it again."""

from __future__ import annotations

import gc

from mltrace_otel.store.bulk import gc_paused


@gc_paused
def _containers() -> list[list[int]]:
    assert not gc.isenabled()
    return [[number] for number in range(10_000)]


def _young_ids() -> set[int]:
    return {id(item) for generation in (0, 1) for item in gc.get_objects(generation)}


def test_what_a_paused_call_returns_skips_the_young_generations() -> None:
    kept = _containers()
    assert gc.isenabled()
    young = _young_ids()
    assert not any(id(item) in young for item in kept)
    assert gc.get_freeze_count() == 0


def test_a_callers_frozen_objects_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        kept = _containers()
        assert gc.get_freeze_count() == frozen
        assert any(id(item) in _young_ids() for item in kept)  # left to the collector
    finally:
        gc.unfreeze()
