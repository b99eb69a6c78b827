"""Helpers for tests that log runs from separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import mltrace_otel as mltrace
from mltrace_otel import semconv, state

PROCESS_TIMEOUT = 120
CLI_TIMEOUT = 120


def release_store() -> None:
    """Close this process's chDB store so a subprocess can open the same home at once."""
    mltrace.flush()
    if state._store is not None:
        state._store.close()  # the local store reopens (and relocks) on the next query


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MLTRACE_HOME"] = str(home)
    env.pop("MLTRACE_BACKEND", None)
    env.pop("MLTRACE_CLICKHOUSE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def write_script(folder: Path, name: str, source: str) -> Path:
    """Write a Python script (dedented) to ``folder/name`` and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def start_script(script: Path, home: Path, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """Start ``python script ARGS`` with ``MLTRACE_HOME=home``; does not wait."""
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env=subprocess_env(home, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_script(
    script: Path, home: Path, *args: str, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python script ARGS`` with ``MLTRACE_HOME=home``; fail loudly on non-zero exit."""
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        env=subprocess_env(home, **extra_env),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{script.name} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}"
        )
    return proc


def wait_all(procs: list[subprocess.Popen[str]]) -> None:
    """Wait for every process; fail with its output if one exited non-zero."""
    failures = []
    for proc in procs:
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
        if proc.returncode != 0:
            failures.append(f"exit {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}")
    assert not failures, "\n---\n".join(failures)


def insert_span(
    span_id: str,
    component: str,
    start: datetime,
    end: datetime,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    *,
    trace_id: str | None = None,
    service: str = "collector-client",
    extra_attributes: Mapping[str, str] | None = None,
    status: str = "Ok",
) -> None:
    """Insert one component-run span straight into ``otel_traces``, as a Collector would:
    no mltrace SDK, attribute values stringified (string arrays as JSON)."""
    attributes = {
        semconv.COMPONENT_NAME: component,
        semconv.RUN_INPUTS: json.dumps(list(inputs)),
        semconv.RUN_OUTPUTS: json.dumps(list(outputs)),
        **(extra_attributes or {}),
    }
    duration = int((end - start).total_seconds() * 1_000_000_000)
    state.store().command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName,"
        " ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode)"
        " VALUES ({ts:DateTime64(9, 'UTC')}, {trace:String}, {span:String}, {name:String},"
        " 'Internal', {service:String},"
        " mapFromArrays({resource_keys:Array(String)}, {resource_values:Array(String)}),"
        " 'other-sdk', '1.0', mapFromArrays({keys:Array(String)}, {values:Array(String)}),"
        " {duration:UInt64}, {status:String})",
        {
            "ts": start,
            "trace": trace_id or span_id * 2,
            "span": span_id,
            "name": component,
            "service": service,
            "resource_keys": ["service.name"],
            "resource_values": [service],
            "keys": list(attributes),
            "values": list(attributes.values()),
            "duration": duration,
            "status": status,
        },
    )
