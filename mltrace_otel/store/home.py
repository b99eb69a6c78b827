"""The ``local`` backend's store: the home's embedded store, or the ``mltrace serve`` that
holds it.

A process asks the server serving its home when there is one (no wait for the store lock,
no chDB in the process) and opens the embedded store otherwise, and it follows the server as
it comes and goes: a server that takes the store while this process waits for the lock
answers the call instead, and when the server it used stops or restarts (with a new key), the
call goes again to the embedded store or to the new server. A call is repeated only after an
error: the embedded store was never opened (nothing ran), or the server it went to is gone
(a write that server had already made is then made again: a note added twice).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mltrace_otel.config import Settings
from mltrace_otel.driver_logs import CLICKHOUSE_DRIVER_LOGGERS, quiet
from mltrace_otel.server import discovery
from mltrace_otel.store.base import Result, Store, StoreError, in_thread
from mltrace_otel.store.local import LocalStore
from mltrace_otel.store.lock import StoreServed

if TYPE_CHECKING:
    import numpy as np

    from mltrace_otel.store import schema

_T = TypeVar("_T")
_ATTEMPTS = 3
"""Calls per operation: a server that restarts while the embedded store is waited for
(gone, then serving again) needs the third."""

quiet.attach(CLICKHOUSE_DRIVER_LOGGERS)  # a server gone is handled here


class HomeStore(Store):
    """The store of ``settings.home``: through its running server, else embedded."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mutex = threading.RLock()
        self._local: LocalStore | None = None  # one for the process: its generation goes on
        self._server: Store | None = None
        self._server_key: str | None = None
        self._current = self._route()

    # -- Store -----------------------------------------------------------------------------
    def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None, *, readonly: bool = False
    ) -> Result:
        return self._call(lambda store: store.query(sql, parameters, readonly=readonly))

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        self._call(lambda store: store.command(sql, parameters))

    def text(self, sql: str, parameters: Mapping[str, Any] | None = None) -> str:
        return self._call(lambda store: store.text(sql, parameters))

    def text_soon(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> Callable[[], str]:
        """In a thread while the embedded store answers (see LocalStore.text_soon)."""
        if self._current is self._local:
            return in_thread(lambda: self.text(sql, parameters))
        return super().text_soon(sql, parameters)

    def columns(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        return self._call(lambda store: store.columns(sql, parameters))

    def touch(self) -> None:
        self._current.touch()

    @property
    def generation(self) -> int | None:
        return self._call(lambda store: store.generation)

    @property
    def location(self) -> str:
        return self._current.location

    def init_db(self) -> bool:
        return self._call(lambda store: store.init_db())

    def expected_layout(self) -> dict[str, schema.Table]:
        return self._call(lambda store: store.expected_layout())

    def ingest(self) -> int:
        """Ingest the spool into the embedded store (a server ingests it itself): how many
        files were ingested here."""
        return self._call(lambda store: store.ingest() if isinstance(store, LocalStore) else 0)

    def close(self) -> None:
        with self._mutex:
            for store in (self._server, self._local):
                if store is not None:
                    store.close()

    # -- internals -------------------------------------------------------------------------
    def _call(self, operation: Callable[[Store], _T]) -> _T:
        for attempt in range(_ATTEMPTS):
            current = self._current
            try:
                if current is self._local:
                    return operation(current)
                with quiet.active():
                    return operation(current)
            except StoreServed:  # a server took the store while this process waited for it
                if attempt == _ATTEMPTS - 1:
                    raise
            except StoreError:
                rerouted = current is not self._current  # by another thread meanwhile
                gone = current is self._server and not self._server_still_runs()
                if attempt == _ATTEMPTS - 1 or not (rerouted or gone):
                    raise
            with self._mutex:
                if self._current is current:
                    self._current = self._route()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _route(self) -> Store:
        """The store to ask now: the running server's, else the embedded one."""
        with self._mutex:
            server = discovery.running_server(self._settings.home)
            if server is None:
                if self._server is not None:
                    self._server.close()
                    self._server, self._server_key = None, None
                if self._local is None:  # asks about the home, not this object: no cycle
                    self._local = LocalStore(
                        self._settings, served=functools.partial(_served, self._settings.home)
                    )
                return self._local
            if self._local is not None:
                self._local.close()  # its lock, if held, is the server's to take
            if self._server is None or self._server_key != server.key:
                if self._server is not None:
                    self._server.close()
                from mltrace_otel.store.server import ServerStore  # clickhouse-connect

                self._server = ServerStore(dataclasses.replace(self._settings,
                                                               url=server.store_url))
                self._server_key = server.key
            return self._server

    def _server_still_runs(self) -> bool:
        server = discovery.running_server(self._settings.home)
        return server is not None and server.key == self._server_key


def _served(home: Path) -> bool:
    """Whether a server holds the store of ``home`` now."""
    return discovery.running_server(home) is not None
