"""The embedded store: chDB (ClickHouse in-process) persisted under ``MLTRACE_HOME``.

chDB allows one process at a time on a store folder, so the process that queries takes an
exclusive file lock (``store.lock``), ingests the spool first (read-your-writes), and lets
the lock go after a short idle period, or between two queries as soon as another process
waits for it, so that other processes (a CLI next to a notebook) can query too. Opening
checks the schema version (``store.schema``): no DDL runs when it is current.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from mltrace_otel.config import ConfigurationError, Settings, number_env
from mltrace_otel.store import ingest as _ingest
from mltrace_otel.store import schema
from mltrace_otel.store.base import (
    Result,
    Store,
    StoreError,
    in_thread,
    refuse_files,
    without_check_scope,
)
from mltrace_otel.store.lock import StoreLock
from mltrace_otel.store.values import bind_parameters

if TYPE_CHECKING:
    import numpy as np

LOCK_TIMEOUT_SECONDS = number_env("MLTRACE_LOCK_TIMEOUT", 60.0)
"""How long a process waits for another one to release the embedded store."""

IDLE_RELEASE_SECONDS = number_env("MLTRACE_IDLE_RELEASE", 1.0)
"""Idle time after which the embedded store is closed so other processes can open it."""

_GLOB_CHARACTERS = set("*?{}[]")
_SESSION_SETTINGS = (
    "SET output_format_json_quote_64bit_integers = 0",
    "SET session_timezone = 'UTC'",
)


chdb_without_pyarrow = False
"""Set by the ``mltrace`` script (a process running no user code): import chDB without
pyarrow, 0.3 s of a CLI start. chDB loads pyarrow, when importable, only for its Arrow
streaming APIs, which the store never calls; its ``ArrowTable`` results import pyarrow
themselves when a bulk read asks for one."""


def _chdb_session() -> Any:
    """chDB's ``Session`` class."""
    if not chdb_without_pyarrow or "chdb.session" in sys.modules or "pyarrow" in sys.modules:
        from chdb import session

        return session.Session
    sys.modules["pyarrow"] = None  # type: ignore[assignment]  # `import pyarrow` fails
    try:
        from chdb import session
    finally:
        del sys.modules["pyarrow"]
    return session.Session


class LocalStore(Store):
    """chDB store under ``settings.store_dir`` fed from ``settings.spool_dir``."""

    def __init__(
        self, settings: Settings, *, hold: bool = False,
        served: Callable[[], bool] | None = None,
    ) -> None:
        if _GLOB_CHARACTERS & set(str(settings.home)):
            raise ConfigurationError(
                f"MLTRACE_HOME {settings.home} contains one of {''.join(sorted(_GLOB_CHARACTERS))}"
                ", which ClickHouse reads as a file pattern: choose another folder"
            )
        self._settings = settings
        self._session: Any = None
        self._readonly_session: Any = None
        self._lock = StoreLock(settings.home)
        self._span_columns: set[str] = set()
        self._mutex = threading.RLock()
        self._last_used = 0.0
        self._closer: threading.Thread | None = None
        self._hold = hold  # ``mltrace serve`` keeps the store (and its lock) until close()
        self._served = served  # whether a server took the store (asked while waiting for it)
        self._generation = 0
        self._schema_changed = False

    # -- Store -----------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return f"at {self._settings.store_dir}"

    def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None, *, readonly: bool = False
    ) -> Result:
        with self._mutex:
            self._ready()
            if readonly:
                raw = self._execute_readonly(sql, parameters)
            else:
                raw = self._execute(sql, "JSONCompact", parameters)
        return _parse(raw)

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        with self._mutex:
            self._ready()
            self._generation += 1
            self._execute(sql, "TSV", parameters)

    def text(self, sql: str, parameters: Mapping[str, Any] | None = None) -> str:
        with self._mutex:
            self._ready()
            raw = self._execute(sql, "TabSeparatedRaw", parameters)
        return raw.decode("utf-8", "replace")

    def text_soon(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> Callable[[], str]:
        """In a thread: chDB lets go of the GIL while a query runs, so a lineage walk goes
        on while the runs it reached so far are read (the store's lock orders the queries)."""
        return in_thread(lambda: self.text(sql, parameters))

    def columns(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        with self._mutex:
            self._ready()
            try:
                table = self._session.query(sql, "ArrowTable", params=bind_parameters(parameters))
            except Exception as error:
                raise StoreError(_first_line(error)) from error
            finally:
                self._last_used = time.monotonic()
        return {name: table.column(name).to_numpy() for name in table.column_names}

    def touch(self) -> None:
        self._generation += 1

    @property
    def session(self) -> Any:
        """The open chDB session, for ``mltrace serve``'s worker thread."""
        with self._mutex:
            if self._session is None:
                self._open()
            return self._session

    @property
    def generation(self) -> int:
        self.ingest()  # spans still in the spool are content too (read-your-writes)
        return self._generation

    def init_db(self) -> bool:
        with self._mutex:
            if self._session is None:
                self._open()
            return self._schema_changed

    def expected_layout(self) -> dict[str, schema.Table]:
        with self._mutex:
            if self._session is None:
                self._open()
            return schema.scratch_layout(lambda sql: self._execute(sql, "TSV", None), self._rows)

    def close(self) -> None:
        with self._mutex:
            for attribute in ("_readonly_session", "_session"):
                session = getattr(self, attribute)
                if session is not None:
                    setattr(self, attribute, None)
                    try:
                        session.close()
                    except Exception as error:  # closing must release the lock regardless
                        logging.getLogger("mltrace_otel").debug("chDB close: %s", error)
            self._lock.release()

    # -- internals -------------------------------------------------------------------------
    def _ready(self) -> None:
        if self._session is not None and not self._hold and self._lock.should_yield():
            self.close()  # another process waits: let it in between two queries
            self._open(after_yield=True)
        if self._session is None:
            self._open()
        self.ingest()

    def _execute(self, sql: str, fmt: str, parameters: Mapping[str, Any] | None) -> bytes:
        try:
            return self._session.query(sql, fmt, params=bind_parameters(parameters)).bytes()
        except Exception as error:
            raise StoreError(_first_line(error)) from error
        finally:
            self._last_used = time.monotonic()

    def _execute_readonly(self, sql: str, parameters: Mapping[str, Any] | None) -> bytes:
        """Run user SQL on a second session of the same store opened with readonly=1."""
        if self._readonly_session is None:
            readonly = _chdb_session()(str(self._settings.store_dir))
            for statement in (*_SESSION_SETTINGS, "SET readonly = 1"):
                readonly.query(statement, "TSV")
            self._readonly_session = readonly
        try:
            refuse_files(self._readonly_session.query(
                "SELECT formatQuery({sql:String})", "TSVRaw", params=bind_parameters({"sql": sql})
            ).bytes().decode())
            return self._readonly_session.query(
                sql, "JSONCompact", params=bind_parameters(parameters)
            ).bytes()
        except StoreError:
            raise
        except Exception as error:
            message = without_check_scope(_first_line(error))
            if "READONLY" in message or "readonly mode" in message:
                message = "read-only SQL cannot write, change tables or read outside the store"
                message += " (use --write for deliberate changes)"
            raise StoreError(message) from error
        finally:
            self._last_used = time.monotonic()

    def _rows(self, sql: str, parameters: Mapping[str, Any]) -> list[list[Any]]:
        text = self._execute(sql, "TabSeparatedRaw", parameters).decode()
        return [line.split("\t") for line in text.splitlines()]

    def ingest(self) -> int:
        """Insert every published spool file; returns how many files were ingested."""
        with self._mutex:
            if self._session is None:
                self._open()
            inserted = _ingest.ingest(
                self._settings.spool_dir,
                self._span_columns,
                lambda sql, parameters: self._execute(sql, "TSV", parameters),
            )
            if inserted:
                self._generation += 1
            return inserted

    def _open(self, *, after_yield: bool = False) -> None:
        store_dir = self._settings.store_dir
        try:
            store_dir.mkdir(parents=True, exist_ok=True)
            self._lock.acquire(LOCK_TIMEOUT_SECONDS, after_yield=after_yield,
                               served=self._served)
        except OSError as error:
            raise StoreError(f"cannot open the store at {store_dir}: {error}") from error
        try:
            self._session = _chdb_session()(str(store_dir))
            for statement in _SESSION_SETTINGS:
                self._execute(statement, "TSV", None)
            self._schema_changed = schema.ensure(
                _SessionStore(self), self.location, self.expected_layout
            )
            self._span_columns = {
                row[0] for row in self._rows(
                    "SELECT name FROM system.columns WHERE database = currentDatabase() "
                    "AND table = 'otel_traces'", {},
                )
            }
        except schema.SchemaTooNew:
            self.close()
            raise
        except Exception as error:
            self.close()
            message = f"cannot open the store at {store_dir}: {_first_line(error)}"
            raise StoreError(message) from error
        self._last_used = time.monotonic()
        self._generation += 1  # other processes may have written while it was closed
        if not self._hold and (self._closer is None or not self._closer.is_alive()):
            self._closer = threading.Thread(
                target=self._close_when_idle, name="mltrace-store-idle", daemon=True
            )
            self._closer.start()

    def _close_when_idle(self) -> None:
        while True:
            time.sleep(min(IDLE_RELEASE_SECONDS / 4, 0.1))
            with self._mutex:
                if self._session is None:
                    return
                idle = time.monotonic() - self._last_used >= IDLE_RELEASE_SECONDS
                if idle or self._lock.should_yield():
                    self.close()
                    return


class _SessionStore(Store):
    """The open session of a LocalStore, without spool ingestion (used while opening)."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store

    def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None, *, readonly: bool = False
    ) -> Result:
        return _parse(self._store._execute(sql, "JSONCompact", parameters))

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        self._store._execute(sql, "TSV", parameters)

    def text(self, sql: str, parameters: Mapping[str, Any] | None = None) -> str:
        raise NotImplementedError

    def columns(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _parse(payload: bytes) -> Result:
    if not payload.strip():
        return Result([], [])
    document = json.loads(payload)
    meta = document.get("meta", [])
    rows = document.get("data", [])
    for index, column in enumerate(meta):  # in place, column by column: most need nothing
        convert = _converter(column["type"])
        if convert is not None:
            for row in rows:
                row[index] = convert(row[index])
    return Result([column["name"] for column in meta], rows)


def _converter(type_name: str) -> Any:
    if type_name.startswith("DateTime"):
        return _datetime
    if type_name.startswith("Array(DateTime"):
        return lambda values: [_datetime(value) for value in values]
    return None


def _datetime(text: str) -> datetime:
    return datetime.fromisoformat(text[:26]).replace(tzinfo=timezone.utc)
