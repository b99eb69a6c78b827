"""Warnings that would repeat on every run (a misconfiguration, a value that cannot be
pickled in a loop): the first of each kind is a warning, the rest go to debug level."""

from __future__ import annotations

import logging
from collections.abc import Hashable

logger = logging.getLogger("mltrace_otel")


class OncePerKey:
    """Warns once per key, for at most ``limit`` distinct keys (then only at debug level)."""

    def __init__(self, limit: int = 64) -> None:
        self._seen: set[Hashable] = set()
        self._limit = limit

    def warn(self, key: Hashable, message: str, *args: object) -> None:
        if key in self._seen or len(self._seen) >= self._limit:
            logger.debug(message, *args)
            return
        self._seen.add(key)
        logger.warning(message, *args)
