"""Stores: where runs are queried. The embedded chDB store and a ClickHouse server run the
same SQL from ``queries/`` behind one small interface."""

from __future__ import annotations

from mltrace_otel.config import Settings
from mltrace_otel.store.base import Result, Store, StoreError


def open_store(settings: Settings) -> Store:
    """The store for the configured backend."""
    if settings.backend == "local":
        from mltrace_otel.store.local import LocalStore

        return LocalStore(settings)
    from mltrace_otel.store.server import ServerStore

    return ServerStore(settings)


__all__ = ["Result", "Store", "StoreError", "open_store"]
