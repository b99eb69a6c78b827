"""The embedded store: chDB (ClickHouse in-process) persisted under ``MLTRACE_HOME``.

chDB allows one process at a time on a store folder, so the process that queries takes an
exclusive file lock, ingests the spool first (read-your-writes), and lets the lock go after
a short idle period so that other processes (a CLI next to a notebook) can query too.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np

from mltrace_otel.config import ConfigurationError, Settings
from mltrace_otel.sdk import spool as _spool
from mltrace_otel.store.base import Result, Store, StoreError
from mltrace_otel.store.sql import schema_statements
from mltrace_otel.store.values import bind_parameters

LOCK_TIMEOUT_SECONDS = float(os.environ.get("MLTRACE_LOCK_TIMEOUT", "60"))
"""How long a process waits for another one to release the embedded store."""

IDLE_RELEASE_SECONDS = float(os.environ.get("MLTRACE_IDLE_RELEASE", "1.0"))
"""Idle time after which the embedded store is closed so other processes can open it."""

_INGEST = "INSERT INTO otel_traces SELECT * FROM file({path:String}, 'Arrow')"
_GLOB_CHARACTERS = set("*?{}[]")


class LocalStore(Store):
    """chDB store under ``settings.store_dir`` fed from ``settings.spool_dir``."""

    def __init__(self, settings: Settings, *, hold: bool = False) -> None:
        if _GLOB_CHARACTERS & set(str(settings.home)):
            raise ConfigurationError(
                f"MLTRACE_HOME {settings.home} contains one of {''.join(sorted(_GLOB_CHARACTERS))}"
                ", which ClickHouse reads as a file pattern: choose another folder"
            )
        self._settings = settings
        self._session: Any = None
        self._lock_file: IO[str] | None = None
        self._mutex = threading.RLock()
        self._last_used = 0.0
        self._closer: threading.Thread | None = None
        self._hold = hold  # ``mltrace serve`` keeps the store (and its lock) until close()
        self._generation = 0

    # -- Store -----------------------------------------------------------------------------
    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Result:
        with self._mutex:
            self._ready()
            raw = self._execute(sql, "JSONCompact", parameters)
        return _parse(raw)

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        with self._mutex:
            self._ready()
            self._generation += 1
            self._execute(sql, "TSV", parameters)

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

    def init_db(self) -> None:
        with self._mutex:
            if self._session is None:
                self._open()

    def close(self) -> None:
        with self._mutex:
            if self._session is not None:
                try:
                    self._session.close()
                finally:
                    self._session = None
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
                self._lock_file = None

    # -- internals -------------------------------------------------------------------------
    def _ready(self) -> None:
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

    def ingest(self) -> int:
        """Insert every published spool file; returns how many files were ingested."""
        with self._mutex:
            if self._session is None:
                self._open()
            folder = _spool.claim(self._settings.spool_dir)
            if folder is None:
                return 0
            files = len(list(folder.glob(f"*{_spool.SUFFIX}")))
            if files:
                self._generation += 1
                try:
                    self._execute(_INGEST, "TSV", {"path": f"{folder}/*{_spool.SUFFIX}"})
                except StoreError as error:
                    raise StoreError(
                        f"could not ingest spool files in {folder}: {error}"
                    ) from error
            _spool.release(folder)
            return files

    def _open(self) -> None:
        store_dir = self._settings.store_dir
        try:
            store_dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = _acquire(self._settings.home / "store.lock")
        except OSError as error:
            raise StoreError(f"cannot open the store at {store_dir}: {error}") from error
        try:
            from chdb import session

            self._session = session.Session(str(store_dir))
            self._execute("SET output_format_json_quote_64bit_integers = 0", "TSV", None)
            self._execute("SET session_timezone = 'UTC'", "TSV", None)
            for statement in schema_statements():
                self._execute(statement, "TSV", None)
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
            time.sleep(IDLE_RELEASE_SECONDS / 4)
            with self._mutex:
                if self._session is None:
                    return
                if time.monotonic() - self._last_used >= IDLE_RELEASE_SECONDS:
                    self.close()
                    return


def _acquire(path: Path) -> IO[str]:
    """Exclusive lock on ``path``, waiting up to ``LOCK_TIMEOUT_SECONDS``."""
    handle = open(path, "a+")  # noqa: SIM115 (held open while the lock is held)
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise StoreError(
                    f"the store at {path.parent} is in use by another process; "
                    f"waited {LOCK_TIMEOUT_SECONDS:.0f}s (set MLTRACE_LOCK_TIMEOUT to wait longer)"
                ) from None
            time.sleep(0.05)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _parse(payload: bytes) -> Result:
    if not payload.strip():
        return Result([], [])
    document = json.loads(payload)
    meta = document.get("meta", [])
    columns = [column["name"] for column in meta]
    converters = [_converter(column["type"]) for column in meta]
    rows = [
        [convert(value) if convert else value for convert, value in zip(converters, row)]
        for row in document.get("data", [])
    ]
    return Result(columns, rows)


def _converter(type_name: str) -> Any:
    if type_name.startswith("DateTime"):
        return _datetime
    if type_name.startswith("Array(DateTime"):
        return lambda values: [_datetime(value) for value in values]
    return None


def _datetime(text: str) -> datetime:
    return datetime.fromisoformat(text[:26]).replace(tzinfo=timezone.utc)
