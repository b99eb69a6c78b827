"""mltrace-otel: every run of an ML pipeline stage is an OpenTelemetry span; ClickHouse
answers which runs, code and data produced an output.

    import mltrace_otel as mltrace
"""

from __future__ import annotations

import atexit
import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import mltrace_otel.query  # noqa: F401  (first: its import binds the name `query` here)
from mltrace_otel import state
from mltrace_otel._version import __version__
from mltrace_otel.clickhouse import redacted

if TYPE_CHECKING:
    from mltrace_otel.config import ConfigurationError, Settings
    from mltrace_otel.entities import components, tests
    from mltrace_otel.query.flags import flag_output_id, unflag_all, unflag_output_id
    from mltrace_otel.query.impact import FinalOutput, Impact, impact
    from mltrace_otel.query.models import ComponentInfo, Pointer, Run
    from mltrace_otel.query.review import Review, Suspect, review, review_flagged_outputs
    from mltrace_otel.query.runs import (
        NotFoundError,
        add_notes_to_component_run,
        backtrace,
        clean_db,
        get_all_tags,
        get_component_information,
        get_component_run_information,
        get_components,
        get_components_with_owner,
        get_components_with_tag,
        get_history,
        get_io_pointer,
        get_recent_run_ids,
        get_stale_runs,
        get_tags,
        trace,
        web_trace,
    )
    from mltrace_otel.sdk.component import Component, register
    from mltrace_otel.sdk.datatests import DataTestError, Test
    from mltrace_otel.sdk.definitions import create_component, tag_component
    from mltrace_otel.sdk.git import get_git_hash, get_git_tags
    from mltrace_otel.sdk.helpers import create_random_ids, load, save
    from mltrace_otel.sdk.not_built import (
        Task,
        compute_metric,
        get_labels,
        log_feedback,
        log_output,
        retract_label,
        retract_labels,
        retrieve_io_pointers_for_label,
        retrieve_retracted_labels,
    )
    from mltrace_otel.sdk.pipeline import Pipeline, pipeline
    from mltrace_otel.sdk.pointers import IOPointer, PointerType
    from mltrace_otel.sdk.run import ComponentRun, log_component_run
    from mltrace_otel.store import StoreError

# Where each public name lives. They are imported on first use (PEP 562), so a pipeline that
# only logs never loads the query side, and the CLI starts without the OpenTelemetry SDK.
_MODULES: dict[str, tuple[str, ...]] = {
    "mltrace_otel.config": ("ConfigurationError", "Settings"),
    "mltrace_otel.query.flags": ("flag_output_id", "unflag_all", "unflag_output_id"),
    "mltrace_otel.query.impact": ("FinalOutput", "Impact", "impact"),
    "mltrace_otel.query.models": ("ComponentInfo", "Pointer", "Run"),
    "mltrace_otel.query.review": ("Review", "Suspect", "review", "review_flagged_outputs"),
    "mltrace_otel.query.runs": (
        "NotFoundError", "add_notes_to_component_run", "backtrace", "clean_db",
        "get_component_information", "get_component_run_information", "get_components",
        "get_components_with_owner", "get_components_with_tag", "get_history",
        "get_io_pointer", "get_recent_run_ids", "get_stale_runs", "get_tags", "get_all_tags",
        "trace", "web_trace",
    ),
    "mltrace_otel.entities": ("components", "tests"),
    "mltrace_otel.sdk.component": ("Component", "register"),
    "mltrace_otel.sdk.datatests": ("DataTestError", "Test"),
    "mltrace_otel.sdk.definitions": ("create_component", "tag_component"),
    "mltrace_otel.sdk.git": ("get_git_hash", "get_git_tags"),
    "mltrace_otel.sdk.helpers": ("create_random_ids", "load", "save"),
    "mltrace_otel.sdk.not_built": (
        "Task", "compute_metric", "get_labels", "log_feedback", "log_output",
        "retract_label", "retract_labels", "retrieve_io_pointers_for_label",
        "retrieve_retracted_labels",
    ),
    "mltrace_otel.sdk.pipeline": ("Pipeline", "pipeline"),
    "mltrace_otel.sdk.pointers": ("IOPointer", "PointerType"),
    "mltrace_otel.sdk.run": ("ComponentRun", "log_component_run"),
    "mltrace_otel.store": ("StoreError",),
}
_HOME_OF = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'mltrace_otel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME_OF))


def query(sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of any SQL on the configured store; bind values as ``{name:Type}`` parameters."""
    from mltrace_otel.query.runs import query as run_query

    return run_query(sql, parameters)


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
    """mltrace compatibility: log to and query the ClickHouse server at ``uri``.

    ``"test"`` (mltrace's test setting, an in-memory database there) is a fresh embedded
    store in a new temporary folder, removed at exit."""
    if uri.strip().lower() == "test":
        return configure(backend="local", home=_test_home())
    return configure(backend="clickhouse", url=uri)


def get_db_uri() -> str:
    """mltrace compatibility: where runs go, as a URI (passwords redacted)."""
    active = state.settings()
    if active.backend == "local":
        return f"local://{active.home}"
    return redacted(active.url or "") or active.backend


def _test_home() -> str:
    import tempfile

    folder = tempfile.mkdtemp(prefix="mltrace-test-")
    _test_homes.append(folder)
    return folder


_test_homes: list[str] = []


@atexit.register
def _remove_test_homes() -> None:
    """Close the store of a ``set_db_uri("test")`` folder, then remove the folders."""
    if not _test_homes:
        return
    import shutil
    import tempfile

    if str(state.settings().home) in _test_homes:
        state.configure(backend="local", home=tempfile.gettempdir())
    for folder in _test_homes:
        shutil.rmtree(folder, ignore_errors=True)


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
    "Pipeline",
    "Pointer",
    "PointerType",
    "Review",
    "Run",
    "Settings",
    "StoreError",
    "Suspect",
    "Task",
    "Test",
    "__version__",
    "add_notes_to_component_run",
    "backtrace",
    "clean_db",
    "components",
    "compute_metric",
    "configure",
    "create_component",
    "create_random_ids",
    "flag_output_id",
    "flush",
    "get_all_tags",
    "get_component_information",
    "get_component_run_information",
    "get_components",
    "get_components_with_owner",
    "get_components_with_tag",
    "get_db_uri",
    "get_git_hash",
    "get_git_tags",
    "get_history",
    "get_io_pointer",
    "get_labels",
    "get_recent_run_ids",
    "get_stale_runs",
    "get_tags",
    "impact",
    "init_db",
    "load",
    "log_component_run",
    "log_feedback",
    "log_output",
    "pipeline",
    "query",
    "register",
    "retract_label",
    "retract_labels",
    "retrieve_io_pointers_for_label",
    "retrieve_retracted_labels",
    "review",
    "review_flagged_outputs",
    "save",
    "set_address",
    "set_db_uri",
    "tag_component",
    "tests",
    "trace",
    "unflag_all",
    "unflag_output_id",
    "web_trace",
]
