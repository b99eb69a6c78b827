"""The central deployment's configuration (no Docker here: validated as files) and the
semantic-conventions document."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import chdb
import yaml

from mltrace_otel import semconv

ROOT = Path(__file__).resolve().parent.parent


def load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def versions_in_manifest() -> tuple[str, set[str]]:
    """The distribution version and the versions of the contrib modules in the ocb manifest."""
    manifest = load("collector/builder-config.yaml")
    modules = [entry["gomod"] for kind in ("receivers", "processors", "exporters", "extensions")
               for entry in manifest[kind]]
    contrib = {m.split()[1] for m in modules if "opentelemetry-collector-contrib" in m}
    return manifest["dist"]["version"], contrib


def image_tag(service: str) -> str:
    image = load("docker-compose.yaml")["services"][service]["image"]
    assert re.fullmatch(r"[\w./-]+:\d+(\.\d+){2,3}(-[a-z]+)*", image), f"not pinned: {image}"
    return image.rsplit(":", 1)[1]


def test_compose_manifest_config_and_ddl_name_one_collector_release() -> None:
    version, contrib = versions_in_manifest()
    assert contrib == {f"v{version}"}
    assert image_tag("otel-collector") == version
    header = (ROOT / "collector/otel-collector-config.yaml").read_text().split("\n", 3)[:3]
    assert f"contrib v{version}" in " ".join(header)
    ddl = (ROOT / "queries/schema/00_otel_traces.sql").read_text()
    assert f"clickhouseexporter v{version}" in ddl
    assert f"otel/opentelemetry-collector-contrib:{version}" in ddl


def test_compose_builds_the_collector_the_tests_build() -> None:
    service = load("docker-compose.yaml")["services"]["otel-collector"]
    dockerfile = (ROOT / service["build"]["context"] / "Dockerfile").read_text()
    assert "RUN bash build.sh" in dockerfile
    assert "COPY builder-config.yaml build.sh" in dockerfile
    go = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True)
    assert f"FROM golang:{go.stdout.strip().removeprefix('go')}-" in dockerfile


def test_compose_pins_the_jaeger_the_tests_build() -> None:
    script = (ROOT / "jaeger/build.sh").read_text()
    (version,) = re.findall(r"^JAEGER_VERSION=v(\S+)", script, re.M)
    assert image_tag("jaeger") == version
    assert f"Jaeger v2 ({version}" in (ROOT / "jaeger/config.yaml").read_text()


def test_compose_pins_the_clickhouse_release_the_ddl_was_tested_on() -> None:
    engine = chdb.query("SELECT version()", "CSV").bytes().decode().strip().strip('"')
    assert image_tag("clickhouse") == engine


def test_compose_pins_every_image_and_the_grafana_plugin() -> None:
    services = load("docker-compose.yaml")["services"]
    assert set(services) == {"clickhouse", "mltrace-init", "otel-collector", "jaeger", "grafana"}
    for name in services:
        image_tag(name)
    environment = services["grafana"]["environment"]
    assert "GF_INSTALL_PLUGINS" not in environment
    plugin, _, version = environment["GF_PLUGINS_PREINSTALL_SYNC"].partition("@")
    assert plugin == "grafana-clickhouse-datasource"
    assert f'PLUGIN_VERSION = "{version}"' in (ROOT / "grafana/build_dashboards.py").read_text()
    (source,) = load("grafana/provisioning/datasources/clickhouse.yaml")["datasources"]
    assert source["jsonData"]["version"] == version
    for variable in ("MLTRACE_CLICKHOUSE_HOST", "MLTRACE_GRAFANA_PASSWORD"):
        assert variable in environment


def test_compose_health_volumes_and_start_order() -> None:
    compose = load("docker-compose.yaml")
    services = compose["services"]
    for name, service in services.items():
        if name != "mltrace-init":  # a one-shot job: its exit code is its health
            assert service["healthcheck"]["test"], name
    assert "init-db" in " ".join(services["mltrace-init"]["command"])
    collector = services["otel-collector"]
    assert collector["depends_on"]["mltrace-init"]["condition"] == "service_completed_successfully"
    assert services["mltrace-init"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    mounts = {
        name: {volume.split(":")[1] for volume in service.get("volumes", [])
               if not volume.startswith(".")}
        for name, service in services.items()
    }
    assert mounts["clickhouse"] == {"/var/lib/clickhouse"}
    users = {volume.split(":")[0] for volume in services["clickhouse"]["volumes"]}
    assert "./clickhouse/users.d/grafana.xml" in users
    assert mounts["grafana"] == {"/var/lib/grafana"}
    (provider,) = load("grafana/provisioning/dashboards/mltrace.yaml")["providers"]
    binds = dict(volume.split(":")[:2] for volume in services["grafana"]["volumes"])
    assert binds["./grafana/dashboards"] == provider["options"]["path"]
    assert binds["./grafana/provisioning"] == "/etc/grafana/provisioning"
    queue = collector["environment"]["OTELCOL_QUEUE_DIRECTORY"]
    assert mounts["otel-collector"] == {queue}
    assert set(compose["volumes"]) == {"clickhouse-data", "otelcol-queue", "grafana-data"}


def test_grafana_reads_clickhouse_as_a_read_only_user() -> None:
    users = ElementTree.parse(ROOT / "clickhouse/users.d/grafana.xml").getroot()
    user = users.find("users/grafana")
    profile = users.find(f"profiles/{user.findtext('profile')}")
    assert profile.findtext("readonly") == "1"
    assert user.find("password").get("from_env") == "MLTRACE_GRAFANA_PASSWORD"
    (source,) = load("grafana/provisioning/datasources/clickhouse.yaml")["datasources"]
    assert source["jsonData"]["username"] == "grafana"


def test_compose_mounts_files_that_exist() -> None:
    for service in load("docker-compose.yaml")["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), volume
        if "build" in service:
            assert (ROOT / service["build"]["context"] / "Dockerfile").exists()


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
