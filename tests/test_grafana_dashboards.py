"""The dashboards as committed: regenerated from grafana/build_dashboards.py without drift,
every query one file of queries/, variables only in forms a hostile value cannot escape, and
the datasource and dashboard provisioning the plugin expects."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import yaml
from _grafana_store import DASHBOARDS, ROOT, dashboards, panel_queries

from mltrace_otel.store import sql

QUERY_FILES = sorted(path for path in (ROOT / "queries").rglob("*.sql")
                     if not path.name.startswith("_"))
"""The query files; ``_name.sql`` files are fragments that queries include."""

SAFE_VARIABLE = re.compile(r"decodeURLComponent\('\$\{[\w.]+:percentencode\}'\)")
"""The one form a variable may take in SQL: percent-encoded by Grafana (only A-Z a-z 0-9 - _
. ~ and %XX survive, so the quoted literal cannot be closed or escaped), decoded by ClickHouse."""

MACROS = re.compile(r"\$__(timeFilter|timeFilter_ms|dateFilter|timeInterval|timeInterval_ms)\("
                    r"|\$__(fromTime|toTime|fromTime_ms|toTime_ms|interval_s)\b")
"""The plugin's documented macros."""


def build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dashboards",
                                                  ROOT / "grafana" / "build_dashboards.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboards_are_regenerated_without_drift() -> None:
    rendered = build_module().render_all()
    committed = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert sorted(rendered) == sorted(committed)
    for name, body in rendered.items():
        assert committed[name] == body, f"grafana/dashboards/{name} is stale: run " \
                                        "python grafana/build_dashboards.py"


def test_check_mode_reports_drift(tmp_path: Path) -> None:
    module = build_module()
    module.DASHBOARDS_DIR = tmp_path
    assert module.main(["--check"]) == 1
    assert module.main([]) == 0
    assert module.main(["--check"]) == 0
    (tmp_path / "trace.json").write_text("{}\n")
    assert module.main(["--check"]) == 1


def test_every_query_is_a_file_of_queries() -> None:
    files = {sql.render(path.read_text()).strip() + "\n": path for path in QUERY_FILES}
    for query in panel_queries():
        assert query.raw_sql in files, f"{query.dashboard} / {query.where}: not a queries/ file"


def test_variables_and_macros_only_in_safe_forms() -> None:
    for path in (ROOT / "queries" / "grafana").glob("*.sql"):
        text = MACROS.sub("", SAFE_VARIABLE.sub("", path.read_text()))
        assert "$" not in text, f"{path.name}: a variable or macro outside the safe forms"
        assert "[[" not in text, f"{path.name}: Grafana's [[var]] syntax"
        assert not re.search(r"\{\w+:\w", text), f"{path.name}: a bound parameter Grafana " \
                                                 "cannot bind"
    for query in panel_queries():
        text = MACROS.sub("", SAFE_VARIABLE.sub("", query.raw_sql))
        assert "$" not in text, f"{query.dashboard} / {query.where}"
        assert "{{" not in query.raw_sql, f"{query.dashboard} / {query.where}: a placeholder"


def test_every_variable_a_dashboard_uses_is_defined_there() -> None:
    """A link or title naming ``${name}`` needs the variable on that dashboard (Grafana leaves
    an unknown one as text: a link to ``${jaeger_url}/trace/...``); ``__`` names are
    Grafana's own."""
    for path in sorted(DASHBOARDS.glob("*.json")):
        text = path.read_text()
        board = json.loads(text)
        defined = {variable["name"] for variable in board["templating"]["list"]}
        used = set(re.findall(r"\$\{([A-Za-z]\w*)", text)) | set(
            re.findall(r"\$([A-Za-z]\w*)", text))
        assert used <= defined, f"{path.name}: {sorted(used - defined)} used, not defined"


def test_panels_use_the_provisioned_datasource() -> None:
    (source,) = yaml.safe_load(
        (ROOT / "grafana/provisioning/datasources/clickhouse.yaml").read_text())["datasources"]
    uids = set()
    for name, board in dashboards().items():
        uids.add(board["uid"])
        assert "mltrace" in board["tags"]
        for panel in board["panels"]:
            if panel["type"] == "text":
                continue
            assert panel["datasource"] == {"type": source["type"], "uid": source["uid"]}, name
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == source["uid"]
                assert target["editorType"] == "sql"
            if panel["type"] == "nodeGraph":
                assert sorted(target["refId"] for target in panel["targets"]) == [
                    "edges", "nodes"]
    assert len(uids) == len(dashboards()) == 6


def test_datasource_has_trace_mode_and_a_read_only_user() -> None:
    (source,) = yaml.safe_load(
        (ROOT / "grafana/provisioning/datasources/clickhouse.yaml").read_text())["datasources"]
    data = source["jsonData"]
    assert source["type"] == "grafana-clickhouse-datasource"
    assert data["version"] == build_module().PLUGIN_VERSION
    assert data["protocol"] == "http" and data["port"] == 8123
    assert data["username"] not in ("", "default")
    assert source["secureJsonData"]["password"].startswith("$")  # from the environment
    traces = data["traces"]
    assert traces["otelEnabled"] is True
    # The plugin's otel.ts lists "latest", "1.30.0" and "1.29.0"; 1.29.0 has the same trace
    # column map as 1.30.0 and is in every 4.x release that has a version list.
    assert traces["otelVersion"] == "1.29.0"
    assert traces["defaultTable"] == "otel_traces"
    schema = " ".join(path.read_text() for path in (ROOT / "queries/schema").glob("*.sql"))
    assert f"CREATE TABLE IF NOT EXISTS {traces['defaultTable']}_trace_id_ts" in schema


def test_dashboard_provider_points_at_the_dashboards() -> None:
    (provider,) = yaml.safe_load(
        (ROOT / "grafana/provisioning/dashboards/mltrace.yaml").read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards/mltrace"
