"""Process-wide state: the resolved settings, the tracing pipeline and the store client."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import TYPE_CHECKING

from mltrace_otel import config
from mltrace_otel.config import Settings

if TYPE_CHECKING:
    from mltrace_otel.sdk.tracing import Tracing
    from mltrace_otel.store import Store

_lock = threading.RLock()
_settings: Settings | None = None
_tracing: Tracing | None = None
_store: Store | None = None
_lost_runs = 0


def settings() -> Settings:
    """The active settings (resolved from the environment on first use)."""
    global _settings
    if _settings is None:
        with _lock:
            if _settings is None:
                _settings = config.resolve()
    return _settings


def logging_settings() -> Settings:
    """The settings the pipeline side logs with: ``settings()``, except that an unknown
    ``MLTRACE_BACKEND`` keeps its name instead of raising (its runs wait in the outbox)."""
    try:
        return settings()
    except config.ConfigurationError:
        return config.resolve(strict=False)


def count_lost_run() -> None:
    """A run tracing could not start, record or log (warned where it failed): ``flush()``
    reports it from now on."""
    global _lost_runs
    _lost_runs += 1


def tracing() -> Tracing:
    """The tracing pipeline for the active settings, created on first use."""
    global _tracing
    if _tracing is None:
        with _lock:
            if _tracing is None:
                from mltrace_otel.sdk.tracing import Tracing  # the OTel SDK: not for queries

                _tracing = Tracing(logging_settings(), count_lost_run)
    return _tracing


def store() -> Store:
    """The store client for the active settings; pending spans are exported first."""
    global _store
    if _tracing is not None:
        _tracing.flush(probe=False)  # read-your-writes, without waiting on a down backend
    if _store is None:
        with _lock:
            if _store is None:
                from mltrace_otel.store import open_store

                _store = open_store(settings())
    return _store


@atexit.register
def close() -> None:
    """Export pending runs and close the store: at exit, before interpreter teardown (chDB
    must not be torn down implicitly), or before the store's folder is removed."""
    global _store
    if _tracing is not None:
        _tracing.flush(probe=False)
    if _store is not None:
        _store.close()
        _store = None


def serve_store(active: Settings, store: Store) -> None:
    """Answer this process's queries from ``store``: ``mltrace serve`` shares the store it
    holds with the CLI commands it runs."""
    global _settings, _store
    with _lock:
        _settings, _store = active, store


def configure(
    backend: str | None = None,
    home: str | os.PathLike[str] | None = None,
    url: str | None = None,
    service_name: str | None = None,
) -> Settings:
    """Switch configuration: flush and close what the previous one opened."""
    global _settings, _tracing, _store
    new = config.resolve(backend=backend, home=home, url=url, service_name=service_name)
    with _lock:
        if _tracing is not None:
            _tracing.shutdown()
        if _store is not None:
            _store.close()
        if "mltrace_otel.sdk.links" in sys.modules:  # links of runs made under the old one
            sys.modules["mltrace_otel.sdk.links"].registry.clear()
        _settings, _tracing, _store = new, None, None
    return new


def flush() -> bool:
    """Export every finished run now, and what waits in the outbox; True when nothing is left
    undelivered (for a server backend, an outbox left by an earlier process counts too) and
    no run was lost to a tracing failure."""
    return tracing().flush() and not _lost_runs
