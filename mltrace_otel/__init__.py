"""mltrace-otel: every run of an ML pipeline stage is an OpenTelemetry span; ClickHouse
answers which runs, code and data produced an output.

    import mltrace_otel as mltrace
"""

from __future__ import annotations

import os

from mltrace_otel import _state
from mltrace_otel._component import Component, register
from mltrace_otel._config import ConfigurationError, Settings
from mltrace_otel._definitions import create_component, tag_component
from mltrace_otel._git import get_git_hash, get_git_tags
from mltrace_otel._helpers import create_random_ids, load, save
from mltrace_otel._models import ComponentInfo, Pointer, Run
from mltrace_otel._pointers import IOPointer, PointerType
from mltrace_otel._query import (
    NotFoundError,
    backtrace,
    get_component_information,
    get_component_run_information,
    get_components,
    get_components_with_owner,
    get_components_with_tag,
    get_history,
    get_recent_run_ids,
    get_tags,
    query,
    trace,
)
from mltrace_otel._run import ComponentRun, log_component_run
from mltrace_otel._version import __version__
from mltrace_otel.store import StoreError


def configure(
    backend: str | None = None,
    home: str | os.PathLike[str] | None = None,
    url: str | None = None,
    service_name: str | None = None,
) -> Settings:
    """Choose where runs go and where queries read: ``local`` (embedded chDB under
    ``home``), ``clickhouse`` (a server at ``url``) or ``otlp`` (an OTLP Collector; queries
    read ``url``). Unset arguments come from the environment, then defaults."""
    return _state.configure(backend=backend, home=home, url=url, service_name=service_name)


def set_address(address: str) -> Settings:
    """mltrace compatibility: log to and query the ClickHouse server at ``address``."""
    url = address if "://" in address else f"http://{address}:8123"
    return configure(backend="clickhouse", url=url)


def set_db_uri(uri: str) -> Settings:
    """mltrace compatibility: log to and query the ClickHouse server at ``uri``."""
    return configure(backend="clickhouse", url=uri)


def flush() -> bool:
    """Export every finished run now (they are also exported at exit)."""
    return _state.flush()


def init_db() -> None:
    """Create ``otel_traces`` and mltrace's tables and views in the configured store."""
    _state.store().init_db()


__all__ = [
    "Component",
    "ComponentInfo",
    "ComponentRun",
    "ConfigurationError",
    "IOPointer",
    "NotFoundError",
    "Pointer",
    "PointerType",
    "Run",
    "Settings",
    "StoreError",
    "__version__",
    "backtrace",
    "configure",
    "create_component",
    "create_random_ids",
    "flush",
    "get_component_information",
    "get_component_run_information",
    "get_components",
    "get_components_with_owner",
    "get_components_with_tag",
    "get_git_hash",
    "get_git_tags",
    "get_history",
    "get_recent_run_ids",
    "get_tags",
    "init_db",
    "load",
    "log_component_run",
    "query",
    "register",
    "save",
    "set_address",
    "set_db_uri",
    "tag_component",
    "trace",
]
