"""The central deployment's configuration (no Docker here: validated as files) and the
semantic-conventions document."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mltrace_otel import semconv

ROOT = Path(__file__).resolve().parent.parent


def load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_compose_pins_the_collector_whose_ddl_the_store_uses() -> None:
    services = load("docker-compose.yaml")["services"]
    image = services["otel-collector"]["image"]
    assert re.fullmatch(r"otel/opentelemetry-collector-contrib:\d+\.\d+\.\d+", image)
    version = image.rsplit(":", 1)[1]
    ddl = (ROOT / "queries/schema/00_otel_traces.sql").read_text()
    assert f"otel/opentelemetry-collector-contrib:{version}" in ddl
    for service in ("clickhouse", "otel-collector", "jaeger", "grafana", "mltrace-init"):
        assert service in services
    assert "init-db" in services["mltrace-init"]["command"]


def test_compose_mounts_files_that_exist() -> None:
    for service in load("docker-compose.yaml")["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), volume


def test_collector_sends_otlp_to_clickhouse_otel_traces_and_jaeger() -> None:
    config = load("collector/otel-collector-config.yaml")
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert "clickhouse" in pipeline["exporters"]
    assert any(name.startswith("otlp/jaeger") for name in pipeline["exporters"])
    for name in pipeline["exporters"] + pipeline.get("processors", []):
        assert name in config["exporters"] or name in config["processors"]
    clickhouse = config["exporters"]["clickhouse"]
    assert clickhouse["traces_table_name"] == "otel_traces"
    assert clickhouse["database"] == "default"
    assert clickhouse["create_schema"] is True


def test_grafana_datasource_points_at_otel_traces() -> None:
    (source,) = load("grafana/provisioning/datasources/clickhouse.yaml")["datasources"]
    assert source["type"] == "grafana-clickhouse-datasource"
    assert source["jsonData"]["traces"]["defaultTable"] == "otel_traces"


def test_conventions_document_every_name() -> None:
    document = (ROOT / "docs/conventions.md").read_text()
    names = {
        value
        for name, value in vars(semconv).items()
        if name.isupper() and isinstance(value, str) and name != "SCOPE_NAME"
    }
    missing = sorted(name for name in names if f"`{name}`" not in document)
    assert not missing, f"undocumented in docs/conventions.md: {missing}"
    for pointer_type in semconv.POINTER_TYPES:
        assert f"`{pointer_type}`" in document


def test_no_attribute_name_is_spelled_outside_semconv() -> None:
    """The convention names live in one module: no other source file spells them."""
    names = {
        value
        for name, value in vars(semconv).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }
    offenders = []
    for path in [*(ROOT / "mltrace_otel").rglob("*.py"), *(ROOT / "queries").rglob("*.sql")]:
        if path.name == "semconv.py":
            continue
        text = path.read_text()
        offenders.extend(f"{path.name}: {name}" for name in names if f'"{name}"' in text
                         or f"'{name}'" in text)
    assert not offenders, offenders
