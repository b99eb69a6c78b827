"""The Collector and Jaeger binaries, built by ``collector/build.sh`` and ``jaeger/build.sh``.

The first test that needs a binary runs its build script, which returns at once when the
build is current (a hash of the manifest, versions and Go release) and rebuilds otherwise, so a
test never runs a binary older than its manifest. ``.ci/run`` builds both before the tests. If
a build fails (no Go, no module proxy) the test fails with the script's output: these tests
are never skipped.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTOR_CONFIG = ROOT / "collector" / "otel-collector-config.yaml"
JAEGER_CONFIG = ROOT / "jaeger" / "config.yaml"
BUILD_TIMEOUT = 2400
"""Seconds a cold build may take (downloads from the Go module proxy, then compiles)."""


@functools.cache
def _built(script: str, binary: str) -> Path:
    env = {**os.environ, "PATH": f"{os.environ.get('PATH', '')}:/usr/local/go/bin"}
    try:
        proc = subprocess.run(
            ["bash", str(ROOT / script)], capture_output=True, text=True, env=env,
            timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{script}` did not finish in {BUILD_TIMEOUT} s")
    path = ROOT / binary
    if proc.returncode != 0 or not os.access(path, os.X_OK):
        pytest.fail(f"`{script}` failed (exit {proc.returncode}), so {binary} is missing:\n"
                    f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return path


def collector_binary() -> Path:
    """The built OpenTelemetry Collector (``collector/build.sh``), current with its manifest."""
    return _built("collector/build.sh", "collector/_build/otelcol-mltrace")


def jaeger_binary() -> Path:
    """The built Jaeger v2 (``jaeger/build.sh``), current with its pinned version."""
    return _built("jaeger/build.sh", "jaeger/_build/jaeger")
