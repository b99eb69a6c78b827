"""Build grafana/dashboards/*.json with grafana-foundation-sdk from the SQL in queries/grafana/.

    python grafana/build_dashboards.py           # write the dashboards
    python grafana/build_dashboards.py --check   # exit 1 if a committed dashboard is stale

Every panel's SQL is a file of queries/ (``{{> grafana/_fragment}}`` lines included and
``{{CONST}}`` filled with the semantic-convention names by ``mltrace_otel.store.sql.render``,
as for the Python API); the dashboards only reference it. The SDK has no ClickHouse
query type, so ``ClickHouseQuery`` writes the grafana-clickhouse-datasource query model
(``editorType: sql``, ``rawSql``, ``format``: 0 time series, 1 table, 3 trace).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import nodegraph, table, text, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm

from mltrace_otel.store import sql

PLUGIN_ID = "grafana-clickhouse-datasource"
PLUGIN_VERSION = "4.20.0"
"""The plugin version the dashboards and the datasource provisioning are written for."""

DATASOURCE = dm.DataSourceRef(type_val=PLUGIN_ID, uid="mltrace-clickhouse")
"""The datasource provisioned by grafana/provisioning/datasources/clickhouse.yaml."""

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
TAGS = ["mltrace"]

TIME_SERIES, TABLE, TRACE = 0, 1, 3
"""The plugin's query ``format`` values."""


class ClickHouseQuery(cogvariants.Dataquery):
    """A raw-SQL query of the ClickHouse datasource plugin."""

    def __init__(self, ref_id: str, raw_sql: str, fmt: int) -> None:
        self.ref_id, self.raw_sql, self.fmt = ref_id, raw_sql, fmt

    def to_json(self) -> dict[str, Any]:
        query_type = {TIME_SERIES: "timeseries", TABLE: "table", TRACE: "traces"}[self.fmt]
        return {
            "datasource": DATASOURCE,
            "editorType": "sql",
            "format": self.fmt,
            "pluginVersion": PLUGIN_VERSION,
            "queryType": query_type,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }


class Query(cogbuilder.Builder[ClickHouseQuery]):
    """Builder of a ClickHouseQuery from a file of queries/grafana/."""

    def __init__(self, name: str, ref_id: str = "A", fmt: int = TABLE) -> None:
        self._query = ClickHouseQuery(ref_id, load(name), fmt)

    def build(self) -> ClickHouseQuery:
        return self._query


def load(name: str) -> str:
    """The SQL of ``queries/<name>.sql`` with convention names filled in."""
    return sql.render((QUERIES_DIR / f"{name}.sql").read_text()).strip() + "\n"


def at(x: int, y: int, w: int, h: int) -> dm.GridPos:
    return dm.GridPos(h=h, w=w, x=x, y=y)


def link(title: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "url": url, **extra}


def trace_links() -> dm.DynamicConfigValue:
    """Data links on a trace id: the pipeline trace in the plugin's trace view, and in Jaeger."""
    explore = link(
        "Pipeline trace (ClickHouse trace view)",
        "",
        internal={
            "datasourceUid": DATASOURCE.uid,
            "datasourceName": "ClickHouse",
            "query": ClickHouseQuery("A", load("grafana/pipeline_trace"), TRACE),
        },
    )
    jaeger = link("Pipeline trace in Jaeger",
                  "${jaeger_url}/trace/${__value.raw:percentencode}", targetBlank=True)
    return dm.DynamicConfigValue(id_val="links", value=[explore, jaeger])


def run_links() -> dm.DynamicConfigValue:
    """Data links on a component name: its Component dashboard."""
    return dm.DynamicConfigValue(id_val="links", value=[link(
        "Component history", "/d/mltrace-component?var-component=${__value.raw:percentencode}"
        "&${__url_time_range}")])


def output_links() -> dm.DynamicConfigValue:
    return dm.DynamicConfigValue(id_val="links", value=[link(
        "Trace this output", "/d/mltrace-trace?var-output_id=${__value.raw:percentencode}"
        "&${__url_time_range}")])


def table_panel(title: str, query: str, place: dm.GridPos, description: str) -> table.Panel:
    panel = (table.Panel().title(title).description(description).datasource(DATASOURCE)
             .grid_pos(place).with_target(Query(query)))
    for field in ("trace_id",):
        panel = panel.override_by_name(field, [trace_links()])
    panel = panel.override_by_name("component", [run_links()])
    return panel


def series_panel(title: str, query: str, place: dm.GridPos, description: str,
                 unit: str = "short") -> timeseries.Panel:
    return (timeseries.Panel().title(title).description(description).datasource(DATASOURCE)
            .grid_pos(place).unit(unit).with_target(Query(query, fmt=TIME_SERIES)))


def node_graph(title: str, prefix: str, place: dm.GridPos, description: str) -> nodegraph.Panel:
    arcs = [
        nodegraph.ArcOption().field("arc__ok").color("green"),
        nodegraph.ArcOption().field("arc__error").color("red"),
        nodegraph.ArcOption().field("arc__unset").color("gray"),
        nodegraph.ArcOption().field("arc__data").color("blue"),
    ]
    return (nodegraph.Panel().title(title).description(description).datasource(DATASOURCE)
            .grid_pos(place).nodes(nodegraph.NodeOptions().arcs(arcs))
            .with_target(Query(f"grafana/{prefix}_nodes", "nodes"))
            .with_target(Query(f"grafana/{prefix}_edges", "edges")))


def query_variable(name: str, label: str, query: str,
                   refresh: dm.VariableRefresh = dm.VariableRefresh.ON_TIME_RANGE_CHANGED
                   ) -> gd.QueryVariable:
    raw = load(query)
    return (gd.QueryVariable(name).label(label).datasource(DATASOURCE)
            .query({"editorType": "sql", "rawSql": raw}).refresh(refresh))


def dashboard(uid: str, title: str, description: str) -> gd.Dashboard:
    """A dashboard of the folder, with ``jaeger_url``, which every trace id links through."""
    return (gd.Dashboard(title).uid(uid).description(description).tags(TAGS)
            .time("now-7d", "now").timezone("utc").editable()
            .link(gd.DashboardLink("mltrace dashboards").type(dm.DashboardLinkType.DASHBOARDS)
                  .tags(TAGS).as_dropdown(True).include_vars(False).keep_time(True))
            .with_variable(gd.ConstantVariable("jaeger_url").value("http://localhost:16686")))


def overview() -> gd.Dashboard:
    return (
        dashboard("mltrace-overview", "mltrace: Overview",
                  "What ran, how often it failed, how long it took, and how fresh each "
                  "component's latest run is.")
        .with_panel(series_panel("Runs per component", "grafana/overview_runs", at(0, 0, 12, 8),
                                 "Component runs started per interval."))
        .with_panel(series_panel("Error rate per component", "grafana/overview_error_rate",
                                 at(12, 0, 12, 8), "Share of runs with status ERROR.",
                                 unit="percentunit"))
        .with_panel(series_panel("Duration p50 / p95", "grafana/overview_duration_quantiles",
                                 at(0, 8, 12, 8), "Run durations over time, all components.",
                                 unit="s"))
        .with_panel(table_panel("Durations and errors per component", "grafana/overview_durations",
                                at(12, 8, 12, 8), "Runs, errors, p50 and p95 duration (s)."))
        .with_panel(table_panel("Latest run of each component", "grafana/overview_latest_runs",
                                at(0, 16, 24, 8),
                                "The latest run of each component, its age and its staleness "
                                "messages (as `mltrace stale`)."))
        .with_panel(table_panel("Recent failures", "grafana/overview_failures", at(0, 24, 24, 8),
                                "Runs with status ERROR, newest first, with the exception "
                                "message."))
    )


def trace() -> gd.Dashboard:
    return (
        dashboard("mltrace-trace", "mltrace: Trace",
                  "Which runs, of which code and data, produced this output (`mltrace trace`).")
        .with_variable(query_variable("output_id", "Output id", "grafana/var_outputs"))
        .with_panel(node_graph("Lineage of ${output_id}", "trace", at(0, 0, 24, 12),
                               "Runs as nodes (component, status, staleness); edges from each "
                               "dependency to the run that read it."))
        .with_panel(table_panel("Trace of ${output_id}", "grafana/trace_lineage", at(0, 12, 24, 10),
                                "Level, component, run id, start, git commit, status and "
                                "staleness; the trace id links to the pipeline trace."))
    )


def review() -> gd.Dashboard:
    return (
        dashboard("mltrace-review", "mltrace: Review",
                  "Given the outputs people flagged, which runs to debug first (`mltrace "
                  "review`).")
        .with_panel(table_panel("Flagged outputs", "flagged", at(0, 0, 8, 12),
                                "Output ids flagged now, oldest flag first.")
                    .override_by_name("OutputId", [output_links()]))
        .with_panel(table_panel("Suspects", "grafana/review_suspects", at(8, 0, 16, 12),
                                "Runs involved in the flagged outputs: coverage (flagged / "
                                "total flagged) and the Ochiai score of docs/review.md.")
                    .unit("short"))
    )


def staleness() -> gd.Dashboard:
    return (
        dashboard("mltrace-staleness", "mltrace: Staleness",
                  "Which runs used old inputs, or inputs superseded by fresher upstream runs.")
        .with_panel(table_panel("Stale runs per component", "grafana/staleness_per_component",
                                at(0, 0, 8, 12), "Stale runs out of all runs in the range."))
        .with_panel(table_panel("Stale runs", "grafana/staleness_runs", at(8, 0, 16, 12),
                                "One row per staleness message (SPEC 3.4), newest run first."))
    )


def component() -> gd.Dashboard:
    changes = (gd.AnnotationQuery().name("Code changes").datasource(DATASOURCE).enable(True)
               .icon_color("orange").target(Query("grafana/component_code_changes")))
    return (
        dashboard("mltrace-component", "mltrace: Component",
                  "The history of one component: runs, durations, what it read and wrote, "
                  "and when its code changed.")
        .with_variable(query_variable("component", "Component", "grafana/var_components",
                                      dm.VariableRefresh.ON_DASHBOARD_LOAD))
        .annotation(changes)
        .with_panel(series_panel("Duration of ${component} runs", "grafana/component_durations",
                                 at(0, 0, 24, 8), "Seconds per run; annotations mark code "
                                 "changes.", unit="s"))
        .with_panel(table_panel("Runs of ${component}", "grafana/component_history",
                                at(0, 8, 24, 10), "Newest first, as `mltrace history`."))
        .with_panel(table_panel("Inputs and outputs of ${component}", "grafana/component_io",
                                at(0, 18, 24, 10), "Pointers read and written in the range."))
    )


def impact() -> gd.Dashboard:
    return (
        dashboard("mltrace-impact", "mltrace: Impact",
                  "Everything downstream of a pointer: the runs that used it and the final "
                  "outputs they affected (`mltrace impact`).")
        .with_variable(query_variable("pointer", "Pointer", "grafana/var_pointers"))
        .with_panel(node_graph("Downstream of ${pointer}", "impact", at(0, 0, 24, 12),
                               "The pointer, every run downstream of it and their final "
                               "outputs."))
        .with_panel(table_panel("Runs downstream of ${pointer}", "grafana/impact_runs",
                                at(0, 12, 24, 10), "Level, run and its final outputs."))
        .with_panel(text.Panel().title("About").grid_pos(at(0, 22, 24, 3)).content(
            "Level 0: runs that read the pointer. A final output is one that no run starting "
            "no earlier than its producer read."))
    )


DASHBOARDS: dict[str, Callable[[], gd.Dashboard]] = {
    "overview": overview,
    "trace": trace,
    "review": review,
    "staleness": staleness,
    "component": component,
    "impact": impact,
}


def render_all() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {
        f"{name}.json": encoder.encode(build().build()) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a dashboard is stale")
    args = parser.parse_args(argv)
    rendered = render_all()
    if args.check:
        stale = [name for name, body in rendered.items()
                 if not (DASHBOARDS_DIR / name).is_file()
                 or (DASHBOARDS_DIR / name).read_text() != body]
        for name in stale:
            print(f"grafana/dashboards/{name} is stale: run python grafana/build_dashboards.py",
                  file=sys.stderr)
        return 1 if stale else 0
    DASHBOARDS_DIR.mkdir(exist_ok=True)
    for name, body in rendered.items():
        (DASHBOARDS_DIR / name).write_text(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
