"""Stores: where runs are queried. The embedded chDB store and a ClickHouse server run the
same SQL from ``queries/`` behind one small interface."""

from __future__ import annotations

from mltrace_otel.config import Settings
from mltrace_otel.store.base import Result, Store, StoreError


def open_store(settings: Settings) -> Store:
    """The store for the configured backend.

    ``local`` goes through a running ``mltrace serve`` for the same home when there is one
    (no wait for the store lock, no chDB in this process), else opens the embedded store,
    and follows the server as it starts and stops (``store/home.py``).
    """
    if settings.backend == "local":
        from mltrace_otel.store.home import HomeStore

        return HomeStore(settings)
    from mltrace_otel.store.server import ServerStore

    return ServerStore(settings)


__all__ = ["Result", "Store", "StoreError", "open_store"]
