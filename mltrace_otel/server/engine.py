"""The server's one chDB session, used from one dedicated worker thread.

chDB calls block and chDB allows one session per process, so every statement, insert and
spool ingest runs on a single-thread executor; the asyncio loop only awaits it. The store's
file lock is held from ``open()`` to ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mltrace_otel.config import Settings
from mltrace_otel.lineage.dependencies import build_index
from mltrace_otel.server import native
from mltrace_otel.server.errors import ClickHouseError
from mltrace_otel.store.local import LocalStore

T = TypeVar("T")
logger = logging.getLogger("mltrace_otel.server")

READ_ONLY_KINDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"})
"""Statements a ``readonly`` request may run (ClickHouse's readonly=1: reads only)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Statement:
    """One request's work: SQL text, or an insert target with its data."""

    sql: str
    fmt: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    database: str = "default"
    readonly: int = 0  # 0 = any statement, 1 = reads only, 2 = reads and settings (GET)
    insert_data: bytes | None = None  # with sql = "INSERT INTO t [(cols)]"
    protocol_revision: int = 0
    writes: bool = False  # not a read (READ_ONLY_KINDS): the store's content may change


@dataclass(frozen=True)
class Outcome:
    """What a statement returned and its counters for ``X-ClickHouse-Summary``."""

    body: bytes
    read_rows: int = 0
    read_bytes: int = 0
    written_rows: int = 0
    written_bytes: int = 0
    elapsed_ns: int = 0


class Engine:
    """Owns the chDB session of ``mltrace serve``."""

    def __init__(self, settings: Settings, query_timeout: float) -> None:
        self.settings = settings
        self._store = LocalStore(settings, hold=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mltrace-chdb")
        self._query_timeout = query_timeout
        self._database = "default"
        self.version = ""
        self.display_name = ""

    @contextlib.contextmanager
    def own_queries(self) -> Iterator[LocalStore]:
        """The store with its session as mltrace's own queries expect it (database
        ``default``, 64-bit integers as JSON numbers), restored for clients afterwards."""
        session = self._store.session
        self._use(session, "default")
        session.query("SET output_format_json_quote_64bit_integers = 0", "TSV")
        try:
            yield self._store
        finally:
            session.query("SET output_format_json_quote_64bit_integers = 1", "TSV")

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the chDB thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    # -- run on the chDB thread --------------------------------------------------------------
    def open(self) -> None:
        """Open the store (schema, lock) and set the session as a ClickHouse server has it."""
        session = self._store.session
        session.query("SET output_format_json_quote_64bit_integers = 1", "TSV")
        session.query(f"SET max_execution_time = {float(self._query_timeout)}", "TSV")
        info = session.query("SELECT version(), displayName()", "TSV").bytes().decode()
        self.version, self.display_name = info.strip().split("\t")
        self.ingest_quietly()

    def warm_index(self) -> None:
        """Load the lineage index, so the first `mltrace trace` through the server is as fast
        as the next (seconds at 10^7 runs; queries submitted meanwhile wait their turn)."""
        try:
            with self.own_queries() as store:
                build_index(store)
        except Exception as error:  # walks then load it themselves, or use the store path
            logger.warning("mltrace serve: could not load the lineage index: %s", error)

    def ingest(self) -> int:
        """Insert the published spool files; the number of files."""
        return self._store.ingest()

    def ingest_quietly(self) -> None:
        """Ingest the spool; a failure is logged, never the failure of a query."""
        try:
            self._store.ingest()
        except Exception as error:
            logger.warning("mltrace serve: spool ingest failed: %s", error)

    def execute(self, statement: Statement) -> Outcome:
        """Run one statement; chDB errors become ``ClickHouseError``."""
        started = time.monotonic_ns()
        try:
            self.ingest_quietly()  # read-your-writes for processes that logged to the spool
            session = self._store.session
            self._use(session, statement.database)
            if statement.insert_data is not None:
                return self._insert(session, statement, started)
            sql = statement.sql
            if statement.readonly:
                sql = f"{sql}\nSETTINGS readonly={statement.readonly}"
            result = session.query(sql, statement.fmt, params=dict(statement.parameters) or None)
            if statement.writes:
                self._store.touch()  # the lineage index and caches see it on their next use
        except ClickHouseError:
            raise
        except Exception as error:
            raise ClickHouseError.from_chdb(error, self.version) from None
        body = result.bytes()
        if statement.protocol_revision and statement.fmt == "Native":
            try:
                body = native.with_block_info(body, statement.protocol_revision)
            except (native.NativeError, IndexError) as error:
                raise ClickHouseError(48, f"{error}", "NOT_IMPLEMENTED", self.version) from None
        return Outcome(
            body,
            read_rows=result.rows_read(),
            read_bytes=result.bytes_read(),
            elapsed_ns=time.monotonic_ns() - started,
        )

    def _insert(self, session: Any, statement: Statement, started: int) -> Outcome:
        data = statement.insert_data or b""
        with session.send_insert(statement.sql, statement.fmt) as inserter:
            if data:
                inserter.append(data)
            result = inserter.finish()
        self._store.touch()
        return Outcome(
            b"",
            written_rows=result.rows_written,
            written_bytes=len(data),
            elapsed_ns=time.monotonic_ns() - started,
        )

    def _use(self, session: Any, database: str) -> None:
        if database == self._database:
            return
        if not _IDENTIFIER.fullmatch(database):
            raise ClickHouseError(81, f"Database {database} does not exist", "UNKNOWN_DATABASE",
                                  self.version)
        session.query(f"USE `{database}`", "TSV")
        self._database = database

    def close(self) -> None:
        """Final spool ingest, then close chDB and release the lock."""
        try:
            self._store.ingest()
        finally:
            self._store.close()

    def shutdown(self) -> None:
        """Stop the worker thread (after ``close`` ran on it)."""
        self._executor.shutdown(wait=True)
