"""The production Collector and Jaeger configurations, checked by the real built binaries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from _binaries import (
    BUILD_TIMEOUT,
    COLLECTOR_CONFIG,
    JAEGER_CONFIG,
    ROOT,
    collector_binary,
    jaeger_binary,
)

# A first test may build the binaries (see _binaries.py): allow a cold build.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 600)

KINDS = ("receivers", "processors", "exporters", "extensions")


def validate(binary: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "validate", f"--config={config}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def built_components() -> dict[str, set[str]]:
    """Component names per kind, as the built Collector lists them."""
    proc = subprocess.run(
        [str(collector_binary()), "components"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    listing = yaml.safe_load(proc.stdout)
    return {kind: {entry["name"] for entry in listing[kind] or []} for kind in KINDS}


def used_types(config: dict) -> dict[str, set[str]]:
    """Component types (the part of an id before ``/``) per kind in a Collector config."""
    return {kind: {name.split("/", 1)[0] for name in config.get(kind) or {}} for kind in KINDS}


def test_production_config_is_valid_for_the_built_collector() -> None:
    proc = validate(collector_binary(), COLLECTOR_CONFIG)
    assert proc.returncode == 0, proc.stderr


def test_validate_rejects_a_component_the_collector_was_not_built_with(tmp_path: Path) -> None:
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    config["processors"]["batch"] = {}
    config["service"]["pipelines"]["traces"]["processors"].append("batch")
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(config))
    proc = validate(collector_binary(), broken)
    assert proc.returncode != 0
    assert "batch" in proc.stderr


def test_config_uses_exactly_the_built_components_by_their_current_names() -> None:
    """No deprecated alias (``otlp`` for ``otlp_grpc``): the binary lists current names only,
    and the manifest builds nothing the configuration does not use."""
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    assert used_types(config) == built_components()


def test_batching_is_in_the_exporters_and_the_clickhouse_queue_is_persistent() -> None:
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["processors"] == ["memory_limiter"]
    assert pipeline["exporters"] == ["clickhouse", "otlp_grpc/jaeger"]
    clickhouse = config["exporters"]["clickhouse"]
    queue = clickhouse["sending_queue"]
    assert queue["storage"] in config["service"]["extensions"]
    assert queue["storage"].startswith("file_storage/")
    assert queue["batch"]["sizer"] == "items"
    assert clickhouse["retry_on_failure"]["enabled"] is True
    assert clickhouse["create_schema"] is True
    assert "batch" in config["exporters"]["otlp_grpc/jaeger"]["sending_queue"]
    for address in (
        clickhouse["endpoint"],
        config["exporters"]["otlp_grpc/jaeger"]["endpoint"],
        config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
        config["receivers"]["otlp"]["protocols"]["http"]["endpoint"],
    ):
        assert address.startswith("${env:OTELCOL_"), address


def test_manifest_pins_one_collector_release() -> None:
    manifest = yaml.safe_load((ROOT / "collector" / "builder-config.yaml").read_text())
    modules = [
        entry["gomod"]
        for kind in (*KINDS, "providers")
        for entry in manifest[kind]
    ]
    versions = {module.split()[1] for module in modules}
    assert versions == {"v0.165.0", "v0.165.1", "v1.71.0"}, versions
    contrib = {m.split()[1] for m in modules if "opentelemetry-collector-contrib" in m}
    assert contrib == {"v" + manifest["dist"]["version"]}


def test_jaeger_config_is_valid_for_the_built_jaeger() -> None:
    proc = validate(jaeger_binary(), JAEGER_CONFIG)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load(JAEGER_CONFIG.read_text())
    (backend,) = config["extensions"]["jaeger_storage"]["backends"].values()
    assert "memory" in backend


def test_build_scripts_reuse_an_unchanged_build() -> None:
    for script, binary in (
        ("collector/build.sh", collector_binary()),
        ("jaeger/build.sh", jaeger_binary()),
    ):
        before = binary.stat().st_mtime_ns
        proc = subprocess.run(
            ["bash", str(ROOT / script)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert "up to date" in proc.stdout
        assert binary.stat().st_mtime_ns == before
