"""A store for the dashboard tests: the demo pipeline (``mltrace demo``) plus a stale run of
each kind, a failed run, flagged outputs and a pointer whose name is hostile SQL, served by
``mltrace serve`` with a read-only user as Grafana would use it; and the queries of
grafana/dashboards/*.json, sent to it as Grafana and the ClickHouse plugin would send them
(over ClickHouse's HTTP interface, with clickhouse-connect)."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _explicit_runs import log_run
from _grafana_macros import Request, Value, expand

import mltrace_otel as mltrace

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "grafana" / "dashboards"

HOSTILE_POINTER = "x' OR 1=1 --\\"
"""An output id that is itself an injection attempt: it must match literally."""


GRAFANA_USER = "grafana"
GRAFANA_PASSWORD = "dashboards-only"


@dataclass
class Scenario:
    """What the store holds beyond the demo pipeline, and a read-only client of its server."""

    home: Path
    prediction_id: str
    clean_csv: str
    runs: dict[str, str]
    flagged: list[str]
    client: Any = None
    url: str = ""


def build_store(home: Path) -> Scenario:
    """Run the demo into ``home`` and add the runs, failures and flags the panels need."""
    demo = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "demo", "--home", str(home)],
        capture_output=True, text=True, timeout=300, check=True,
    )
    prediction_id = re.search(r"^Last prediction id: (\S+)$", demo.stdout, re.MULTILINE)
    assert prediction_id, demo.stdout
    mltrace.configure(backend="local", home=home)
    runs = {
        "load_old": log_run("load", 0, ["crm://a"], ["raw_a.csv"]),
        "load_new": log_run("load", 1, ["crm://b"], ["raw_b.csv"]),
        "report": log_run("report", 2, ["raw_a.csv"], ["report_a.txt"]),  # rule 2
        "summary": log_run("summary", 45, ["raw_b.csv"], ["summary.txt"]),  # rule 1
        "hostile": log_run("hostile", 46, ["summary.txt"], [HOSTILE_POINTER]),
    }
    failing = mltrace.Component("score_batch", owner="ml")

    @failing.run(input_vars=["source"])
    def score(source: str) -> None:
        raise ValueError("bad batch: 3 null ids")

    with contextlib.suppress(ValueError):
        score("raw_b.csv")
    flagged = [prediction_id.group(1), "report_a.txt"]
    for output in flagged:
        mltrace.flag_output_id(output)
    mltrace.flush()
    clean = next(row[0] for row in mltrace.query(
        "SELECT Pointer FROM mltrace_io WHERE Direction = 'output' AND Component = 'clean'"))
    return Scenario(home, prediction_id.group(1), clean, runs, flagged)


def request(variables: Mapping[str, Value]) -> Request:
    """A panel request over every run of the scenario (2024 to tomorrow)."""
    return Request(
        time_from=datetime(2024, 1, 1, tzinfo=timezone.utc),
        time_to=datetime.now(timezone.utc) + timedelta(days=1),
        interval=timedelta(hours=1),
        variables=variables,
    )


@dataclass(frozen=True)
class PanelQuery:
    """One query of a dashboard: where it is and what it must return."""

    dashboard: str
    where: str
    kind: str  # panel type, "variable" or "annotation"
    ref_id: str
    raw_sql: str


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panel_queries() -> Iterator[PanelQuery]:
    """Every SQL a dashboard sends: panel targets, variable queries, annotation queries."""
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield PanelQuery(name, panel["title"], panel["type"], target["refId"],
                                 target["rawSql"])
            for override in panel["fieldConfig"].get("overrides", []):
                for prop in override["properties"]:
                    for link in prop["value"] if prop["id"] == "links" else []:
                        if "internal" in link:
                            query = link["internal"]["query"]
                            yield PanelQuery(name, f"{panel['title']}: {link['title']}",
                                             "trace-link", query["refId"], query["rawSql"])
        for variable in board.get("templating", {}).get("list", []):
            if variable["type"] == "query":
                yield PanelQuery(name, variable["name"], "variable", "A",
                                 variable["query"]["rawSql"])
        for annotation in board.get("annotations", {}).get("list", []):
            if "target" in annotation:
                yield PanelQuery(name, annotation["name"], "annotation", "A",
                                 annotation["target"]["rawSql"])


def connect(port: int) -> Any:
    """A clickhouse-connect client of ``mltrace serve`` as the read-only Grafana user."""
    import clickhouse_connect

    return clickhouse_connect.get_client(host="127.0.0.1", port=port, username=GRAFANA_USER,
                                         password=GRAFANA_PASSWORD)


def panel_rows(scenario: Scenario, sql: str, variables: Mapping[str, Value]
               ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of a panel query, expanded as Grafana and the plugin would, run
    by the read-only user through the server."""
    result = scenario.client.query(expand(sql, request(variables)))
    return list(result.column_names), [tuple(row) for row in result.result_rows]
