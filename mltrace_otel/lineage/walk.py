"""Ordering a lineage graph for display: depth-first, each run once, with its level."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def depth_first(
    roots: Sequence[str],
    children: Mapping[str, Sequence[str]],
    runs: Mapping[str, T],
    key: Callable[[str], Any],
    descending: bool = False,
) -> list[tuple[int, T]]:
    """``(level, run)`` pairs: each run once, at the level where a depth-first walk from
    ``roots`` meets it first, visiting children in ``key`` order; a root is always at level 0
    (a reader of an impact's pointer that also reads another reader's output stays one)."""
    ordered: list[tuple[int, T]] = []
    visited: set[str] = set()
    stack = [(root, 0) for root in reversed(roots)]
    starts = set(roots)
    while stack:
        run_id, level = stack.pop()
        if run_id in visited or run_id not in runs:
            continue
        visited.add(run_id)
        ordered.append((level, runs[run_id]))
        below = children.get(run_id)
        if not below:  # a leaf: most runs of a fan-out
            continue
        following = sorted((child for child in below if child in runs and child not in starts),
                           key=key, reverse=not descending)
        stack.extend((child, level + 1) for child in following)
    return ordered
