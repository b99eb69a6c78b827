"""Stores: where runs are queried. The embedded chDB store and a ClickHouse server run the
same SQL from ``queries/`` behind one small interface."""

from __future__ import annotations

import dataclasses

from mltrace_otel.config import Settings
from mltrace_otel.store.base import Result, Store, StoreError


def open_store(settings: Settings) -> Store:
    """The store for the configured backend.

    ``local`` goes through a running ``mltrace serve`` for the same home when there is one
    (no wait for the store lock, no chDB in this process), else opens the embedded store.
    """
    if settings.backend == "local":
        from mltrace_otel.server.discovery import running_server

        server = running_server(settings.home)
        if server is not None:
            from mltrace_otel.store.server import ServerStore

            return ServerStore(dataclasses.replace(settings, url=server.store_url))
        from mltrace_otel.store.local import LocalStore

        return LocalStore(settings)
    from mltrace_otel.store.server import ServerStore

    return ServerStore(settings)


__all__ = ["Result", "Store", "StoreError", "open_store"]
