"""The in-process link registry keeps bounded state: at most ``_MAX_POINTERS`` pointer names
and ``_MAX_PRODUCERS_PER_KEY`` runs per pointer or component, the newest kept."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanContext, TraceFlags

from mltrace_otel.sdk import links


def _context(number: int) -> SpanContext:
    return SpanContext(1, number, is_remote=False, trace_flags=TraceFlags(1))


def test_the_registry_forgets_the_oldest_pointers_beyond_its_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(links, "_MAX_POINTERS", 10)
    registry = links.LocalLineage()
    for number in range(1, 51):
        registry.record("writer", [f"file-{number}.csv"], [""], _context(number), number, number)
    assert registry.producer("file-1.csv", "", 100) is None
    assert registry.producer("file-40.csv", "", 100) is None
    assert all(
        registry.producer(f"file-{number}.csv", "", 100) == _context(number)
        for number in range(41, 51)
    )


def test_the_registry_keeps_the_newest_runs_per_component_and_pointer() -> None:
    registry = links.LocalLineage()
    runs = links._MAX_PRODUCERS_PER_KEY * 5
    for number in range(1, runs + 1):
        registry.record("writer", ["shared.csv"], [""], _context(number), number, number)
    assert registry.latest_run("writer", runs) == _context(runs)
    assert registry.producer("shared.csv", "", runs) == _context(runs)
    oldest_kept = runs - links._MAX_PRODUCERS_PER_KEY + 1
    assert registry.latest_run("writer", oldest_kept) == _context(oldest_kept)
    assert registry.latest_run("writer", oldest_kept - 1) is None
    assert registry.producer("shared.csv", "", oldest_kept - 1) is None
