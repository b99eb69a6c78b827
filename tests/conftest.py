"""Shared fixtures: a fresh embedded store per test and a real CLI subprocess runner."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _stores import serve_for_tests, store_backend  # noqa: F401 (fixtures)
from _support import CLI_TIMEOUT, release_store, subprocess_env

import mltrace_otel as mltrace
from mltrace_otel import state


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``MLTRACE_HOME`` configured in this process; its store is closed afterwards."""
    folder = tmp_path / "mltrace_home"
    folder.mkdir()
    monkeypatch.setenv("MLTRACE_HOME", str(folder))
    monkeypatch.delenv("MLTRACE_BACKEND", raising=False)
    monkeypatch.delenv("MLTRACE_CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("SAVE_DIR", raising=False)
    mltrace.configure(backend="local", home=folder)
    yield folder
    # Switching configuration flushes and closes this test's tracing pipeline and chDB store.
    parked = tmp_path / "parked_home"
    parked.mkdir(exist_ok=True)
    state.configure(backend="local", home=parked)


@pytest.fixture
def run_cli(home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``mltrace ARGS`` as a real subprocess against ``home``.

    This process's store is released first so the subprocess does not wait for the lock.
    """

    def run(*args: str, check: bool = False, **extra_env: str) -> subprocess.CompletedProcess[str]:
        release_store()
        active = state.settings()
        if active.backend != "local" and active.url:  # a store_backend test on a server
            extra_env = {"MLTRACE_BACKEND": active.backend,
                         "MLTRACE_CLICKHOUSE_URL": active.url, **extra_env}
        proc = subprocess.run(
            [sys.executable, "-m", "mltrace_otel.cli", *args],
            env=subprocess_env(home, **extra_env),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"mltrace {' '.join(args)} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    return run
