"""mltrace-otel: every run of an ML pipeline stage is an OpenTelemetry span; ClickHouse
answers which runs, code and data produced an output.

    import mltrace_otel as mltrace
"""

from __future__ import annotations

import os

from mltrace_otel import state
from mltrace_otel._version import __version__
from mltrace_otel.config import ConfigurationError, Settings
from mltrace_otel.query.flags import flag_output_id, unflag_all, unflag_output_id
from mltrace_otel.query.impact import FinalOutput, Impact, impact
from mltrace_otel.query.models import ComponentInfo, Pointer, Run
from mltrace_otel.query.review import Review, Suspect, review, review_flagged_outputs
from mltrace_otel.query.runs import (
    NotFoundError,
    add_notes_to_component_run,
    backtrace,
    get_component_information,
    get_component_run_information,
    get_components,
    get_components_with_owner,
    get_components_with_tag,
    get_history,
    get_recent_run_ids,
    get_stale_runs,
    get_tags,
    query,
    trace,
)
from mltrace_otel.sdk.component import Component, register
from mltrace_otel.sdk.datatests import DataTestError, Test
from mltrace_otel.sdk.definitions import create_component, tag_component
from mltrace_otel.sdk.git import get_git_hash, get_git_tags
from mltrace_otel.sdk.helpers import create_random_ids, load, save
from mltrace_otel.sdk.pointers import IOPointer, PointerType
from mltrace_otel.sdk.run import ComponentRun, log_component_run
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
    return state.configure(backend=backend, home=home, url=url, service_name=service_name)


def set_address(address: str) -> Settings:
    """mltrace compatibility: log to and query the ClickHouse server at ``address``
    (a host, ``host:port`` or a URL; the port defaults to 8123)."""
    host, _, port = address.rpartition(":")
    if "://" in address:
        url = address
    elif port.isdigit() and host and (":" not in host or host.startswith("[")):
        url = f"http://{address}"
    else:
        url = f"http://{address}:8123"
    return configure(backend="clickhouse", url=url)


def set_db_uri(uri: str) -> Settings:
    """mltrace compatibility: log to and query the ClickHouse server at ``uri``."""
    return configure(backend="clickhouse", url=uri)


def flush() -> bool:
    """Export every finished run now (they are also exported at exit)."""
    return state.flush()


def init_db() -> None:
    """Create ``otel_traces`` and mltrace's tables and views in the configured store."""
    state.store().init_db()


__all__ = [
    "Component",
    "ComponentInfo",
    "ComponentRun",
    "ConfigurationError",
    "DataTestError",
    "FinalOutput",
    "IOPointer",
    "Impact",
    "NotFoundError",
    "Pointer",
    "PointerType",
    "Review",
    "Run",
    "Settings",
    "StoreError",
    "Suspect",
    "Test",
    "__version__",
    "add_notes_to_component_run",
    "backtrace",
    "configure",
    "create_component",
    "create_random_ids",
    "flag_output_id",
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
    "get_stale_runs",
    "get_tags",
    "impact",
    "init_db",
    "load",
    "log_component_run",
    "query",
    "register",
    "review",
    "review_flagged_outputs",
    "save",
    "set_address",
    "set_db_uri",
    "tag_component",
    "trace",
    "unflag_all",
    "unflag_output_id",
]
