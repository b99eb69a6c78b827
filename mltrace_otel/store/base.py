"""The store interface."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrace_otel.store.sql import schema_statements

if TYPE_CHECKING:
    import numpy as np


class StoreError(RuntimeError):
    """The store cannot be reached, is busy, or rejected a statement."""


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
    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Result:
        """Run a read query; every value is a bound ``{name:Type}`` parameter."""

    @abc.abstractmethod
    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows."""

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

    def init_db(self) -> None:
        """Create otel_traces (as the Collector would) and mltrace's tables and views."""
        for statement in schema_statements():
            self.command(statement)

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and locks."""
