"""The Collector and Jaeger binaries built by ``collector/build.sh`` and ``jaeger/build.sh``.

CI builds both before the tests (``.ci/run``). A missing binary fails the test that needs it,
with the command that builds it: these tests are never skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTOR_CONFIG = ROOT / "collector" / "otel-collector-config.yaml"
JAEGER_CONFIG = ROOT / "jaeger" / "config.yaml"
_COLLECTOR = ROOT / "collector" / "_build" / "otelcol-mltrace"
_JAEGER = ROOT / "jaeger" / "_build" / "jaeger"


def _require(binary: Path, script: str) -> Path:
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary.relative_to(ROOT)} is missing: build it with `{script}`")
    return binary


def collector_binary() -> Path:
    """The built OpenTelemetry Collector (``collector/build.sh``)."""
    return _require(_COLLECTOR, "collector/build.sh")


def jaeger_binary() -> Path:
    """The built Jaeger v2 (``jaeger/build.sh``)."""
    return _require(_JAEGER, "jaeger/build.sh")
