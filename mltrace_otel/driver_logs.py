"""Drivers' and exporters' own log lines while mltrace handles their failure itself: on the
thread inside ``quiet.active()``, a library's retry and failure records are held back (the
first one kept as the cause), so the user sees mltrace's one warning or error instead."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Final

CLICKHOUSE_DRIVER_LOGGERS: Final = (
    "clickhouse_connect.driver._backend.http_sync",
    "clickhouse_connect.driver.httpclient",
)
"""The loggers clickhouse-connect reports a failed request on (a retry, a refused
connection), for the exporter and the store alike."""


class QuietLogs(logging.Filter):
    """Swallows records on a thread inside ``active()``, keeping the first message (the
    cause; later ones only say that retries ran out) in ``local.first``."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(self.local, "active", False):
            if self.local.first is None:
                self.local.first = record.getMessage()
            return False
        return True

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        outer = getattr(self.local, "active", False), getattr(self.local, "first", None)
        self.local.active, self.local.first = True, None
        try:
            yield
        finally:
            if outer[0]:  # nested: the outer block goes on, with its own first record
                self.local.active, self.local.first = outer
            else:
                self.local.active = False

    def attach(self, names: Iterable[str]) -> None:
        """Filter the records of the named loggers (a logger's filter sees only its own)."""
        for name in names:
            target = logging.getLogger(name)
            if self not in target.filters:
                target.addFilter(self)


quiet = QuietLogs()
