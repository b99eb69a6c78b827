"""The in-process link registry keeps bounded state: at most ``_MAX_POINTERS`` pointer names
and ``_MAX_PRODUCERS_PER_KEY`` runs per pointer or component, the newest kept."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanContext, TraceFlags, TraceState

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


def test_a_run_comes_back_as_the_span_context_it_was_logged_with() -> None:
    registry = links.LocalLineage()
    largest = SpanContext((1 << 128) - 1, (1 << 64) - 1, is_remote=False,
                          trace_flags=TraceFlags(1),
                          trace_state=TraceState([("vendor", "value")]))
    plain = SpanContext(1 << 100, 7, is_remote=False, trace_flags=TraceFlags(0))
    registry.record("writer", ["a.csv"], ["v1"], largest, 10, 20)
    registry.record("other", ["b.csv"], [""], plain, -5, 3)
    assert registry.producer("a.csv", "v1", 10) == largest
    assert registry.producer("a.csv", "v2", 10) is None
    assert registry.latest_run("writer", 9) is None
    assert registry.latest_run("other", 0) == plain


def test_runs_logged_outside_the_nanosecond_range_keep_their_order() -> None:
    registry = links.LocalLineage()
    ancient = SpanContext(1, 1, is_remote=False)
    modern = SpanContext(1, 2, is_remote=False)
    far_future = SpanContext(1, 3, is_remote=False)
    year_one_ns = -62_135_596_800 * 10**9  # datetime(1, 1, 1): beyond a signed 64-bit ns
    registry.record("writer", ["a.csv"], [""], ancient, year_one_ns, year_one_ns + 1)
    registry.record("writer", ["a.csv"], [""], modern, 10, 20)
    registry.record("writer", ["a.csv"], [""], far_future, 1 << 70, (1 << 70) + 1)
    assert registry.producer("a.csv", "", 0) == ancient
    assert registry.producer("a.csv", "", 15) == modern
    assert registry.latest_run("writer", 1 << 71) == far_future


def test_a_name_written_once_then_again_with_versions_keeps_every_run() -> None:
    registry = links.LocalLineage()
    registry.record("writer", ["a.csv"], [""], _context(1), 1, 1)
    assert registry.producer("a.csv", "", 5) == _context(1)
    assert registry.producer("a.csv", "v2", 5) is None
    registry.record("writer", ["a.csv"], ["v2"], _context(2), 2, 2)
    registry.record("writer", ["a.csv"], [""], _context(3), 3, 3)
    assert registry.producer("a.csv", "v2", 5) == _context(2)
    assert registry.producer("a.csv", "", 5) == _context(3)
    assert registry.producer("a.csv", "", 2) == _context(2)
    assert registry.producer("a.csv", "", 1) == _context(1)


def test_a_name_written_again_keeps_its_place_in_line_for_eviction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(links, "_MAX_POINTERS", 3)
    registry = links.LocalLineage()
    for number, name in enumerate(["a", "b", "c", "a", "d"], start=1):
        registry.record("writer", [name], [""], _context(number), number, number)
    assert registry.producer("a", "", 10) is None  # first seen first, though written again
    assert [registry.producer(name, "", 10) for name in "bcd"] == [
        _context(2), _context(3), _context(5)]


def test_built_span_contexts_are_kept_for_at_most_the_last_producers_picked() -> None:
    registry = links.LocalLineage()
    producers = 2_000  # more than the contexts kept built
    for number in range(1, producers + 1):
        registry.record("writer", [f"file-{number}.csv"], [""], _context(number), number, number)
    for _ in range(2):  # each picked twice, past the bound: right every time, never over it
        for number in range(1, producers + 1):
            assert registry.producer(f"file-{number}.csv", "", 10**6) == _context(number)
            assert links._bare_context.cache_info().currsize <= 1024
    assert registry.producer("file-7.csv", "", 10**6) is registry.producer("file-7.csv", "", 10**6)
