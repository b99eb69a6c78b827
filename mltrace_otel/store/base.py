"""The store interface."""

from __future__ import annotations

import abc
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrace_otel.store.errors import StoreError

__all__ = ["Result", "Store", "StoreError", "refuse_files"]

if TYPE_CHECKING:
    import numpy as np

    from mltrace_otel.store.schema import Table


# What ClickHouse's readonly=1 still allows where the server is embedded (clickhouse-local,
# chDB, mltrace serve): the file() function reads any file, INTO OUTFILE writes one.
_FILE_ACCESS = re.compile(r"\bINTO\s+OUTFILE\b|\bfile\s*\(", re.IGNORECASE)
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'")


_CHECK_SCOPE = re.compile(r":? In scope SELECT formatQuery\('(?:[^'\\]|\\.)*'\)")


def without_check_scope(message: str) -> str:
    """A ClickHouse error of the ``formatQuery`` that ``refuse_files`` needs, as the user's
    own SQL would have raised it (without the wrapping query's scope)."""
    return _CHECK_SCOPE.sub("", message)


def refuse_files(formatted_sql: str) -> None:
    """Raise unless SQL (as ClickHouse's ``formatQuery`` prints it) stays inside the store."""
    if _FILE_ACCESS.search(_STRING_LITERAL.sub("''", formatted_sql)):
        raise StoreError(
            "read-only SQL cannot read or write files (file(), INTO OUTFILE); "
            "use --write for deliberate changes"
        )


def in_thread(read: Callable[[], str]) -> Callable[[], str]:
    """``read()`` started in a thread now; calling what this returns gives its result (or
    raises its error)."""
    from concurrent.futures import Future

    future: Future[str] = Future()

    def run() -> None:
        try:
            future.set_result(read())
        except BaseException as error:  # the caller's to raise, when it collects
            future.set_exception(error)

    threading.Thread(target=run, name="mltrace-read", daemon=True).start()
    return future.result


@dataclass(frozen=True)
class Result:
    """Rows of a query with their column names."""

    columns: list[str]
    rows: list[list[Any]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Store(abc.ABC):
    """A ClickHouse that holds ``otel_traces`` and mltrace's own tables."""

    @abc.abstractmethod
    def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None, *, readonly: bool = False
    ) -> Result:
        """Run a query; every value is a bound ``{name:Type}`` parameter.

        ``readonly=True`` runs it under ClickHouse's ``readonly=1`` (no writes, no DDL, no
        table functions that read files or the network): for SQL a user typed.
        """

    @abc.abstractmethod
    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows."""

    @abc.abstractmethod
    def text(self, sql: str, parameters: Mapping[str, Any] | None = None) -> str:
        """A query's rows as ``TabSeparatedRaw`` text (a line a row, values as they are,
        invalid UTF-8 replaced), for rows the caller decodes itself."""

    def text_soon(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> Callable[[], str]:
        """``text()`` begun now, its result (or error) given by calling what this returns:
        a store that can run the query while the caller's Python goes on does so (the
        embedded store); this one reads it at once."""
        text = self.text(sql, parameters)
        return lambda: text

    @abc.abstractmethod
    def columns(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        """A query's columns as numpy arrays (for bulk reads)."""

    def touch(self) -> None:  # noqa: B027 (optional hook: only some stores track writes)
        """Note that something outside mltrace's own paths (user SQL) may have written."""

    @property
    def generation(self) -> int | None:
        """A number that changes whenever the content may have changed, when the store can
        tell (only this process writes to it); None when it cannot."""
        return None

    @property
    def location(self) -> str:
        """Where the store is, for messages (never with secrets)."""
        return type(self).__name__

    def init_db(self) -> bool:
        """Create otel_traces (as the Collector would) and mltrace's tables and views, or
        migrate them to this release's schema; True when any DDL ran."""
        from mltrace_otel.store import schema

        return schema.ensure(self, self.location, self.expected_layout)

    def expected_layout(self) -> dict[str, Table]:
        """The tables and views this release's DDL creates, as ClickHouse describes them."""
        from mltrace_otel.store import schema

        return schema.standalone_layout()

    def schema_drift(self) -> list[str]:
        """How the store differs from this release's schema, one line per difference."""
        from mltrace_otel.store import schema

        return schema.drift(self, self.expected_layout())

    def repair(self) -> list[str]:
        """Bring a store that drifted from this release's schema back to it: create missing
        tables and views, add missing columns and indexes, recreate views (the rows of
        derived tables stay as they are). Returns the differences found, one line each."""
        from mltrace_otel.store import schema

        problems = self.schema_drift()
        if problems:
            schema.refuse_newer_store(self, self.location)
            schema.migrate(self, self.expected_layout())
            schema.record(self)
        return problems

    def rebuild(self) -> int:
        """Recreate the project's derived tables and refill them from ``otel_traces``;
        returns the number of spans read."""
        from mltrace_otel.store import schema

        schema.refuse_newer_store(self, self.location)
        count = schema.rebuild_derived(self)
        schema.record(self)
        return count

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and locks."""
