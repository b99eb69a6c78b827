"""The store's error type (its own module so that schema code needs no store class)."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be reached, is busy, or rejected a statement."""
