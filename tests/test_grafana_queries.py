"""Every query of the dashboards, expanded as Grafana and the ClickHouse plugin expand it, runs
on a store filled by the demo pipeline (plus stale, failed, flagged and hostile runs), returns
what its panel type needs, and agrees with the Python API that answers the same question."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from _grafana_macros import interpolate
from _grafana_store import (
    GRAFANA_PASSWORD,
    GRAFANA_USER,
    HOSTILE_POINTER,
    PanelQuery,
    Scenario,
    build_store,
    connect,
    panel_queries,
    panel_rows,
)
from _serve import serve_process
from _support import release_store

import mltrace_otel as mltrace
from mltrace_otel import state

QUERIES = list(panel_queries())


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The scenario store, served by ``mltrace serve --readonly-user grafana``; this process's
    own queries (the Python API the panels are compared with) go through the same server."""
    home = tmp_path_factory.mktemp("grafana-home")
    built = build_store(home)
    release_store()
    with serve_process(home, "--readonly-user", GRAFANA_USER,
                       MLTRACE_SERVE_READONLY_PASSWORD=GRAFANA_PASSWORD) as server:
        built.client, built.url = connect(server.port), server.url
        mltrace.configure(backend="local", home=home)  # a new store: routed to the server
        yield built
        built.client.close()
        release_store()
    state.configure(backend="local", home=tmp_path_factory.mktemp("parked"))


def variables(scenario: Scenario) -> dict[str, str]:
    (root,) = [run for level, run in mltrace.trace(scenario.prediction_id) if level == 0]
    return {
        "output_id": scenario.prediction_id,
        "component": "predict",
        "pointer": scenario.clean_csv,
        "__value": root.trace_id,  # a data link's ${__value.raw}: the clicked trace id
    }


def rows_as_dicts(names: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(names, row)) for row in rows]


def test_the_dashboards_have_queries_of_every_kind() -> None:
    kinds = {query.kind for query in QUERIES}
    assert kinds == {"table", "timeseries", "nodeGraph", "variable", "annotation", "trace-link"}
    assert {query.dashboard for query in QUERIES} == {
        "overview", "trace", "review", "staleness", "component", "impact"}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.dashboard}:{q.where}:{q.ref_id}")
def test_query_runs_and_returns_what_its_panel_needs(scenario: Scenario, query: PanelQuery) -> None:
    names, rows = panel_rows(scenario, query.raw_sql, variables(scenario))
    assert rows, f"{query.dashboard} / {query.where} returned no rows on the scenario store"
    if query.kind == "nodeGraph" and query.ref_id == "nodes":
        assert {"id", "title", "mainstat", "secondarystat"} <= set(names)
        assert all(name.startswith(("arc__", "detail__")) or name in {
            "id", "title", "subtitle", "mainstat", "secondarystat", "highlighted"}
            for name in names)
        ids = [row[names.index("id")] for row in rows]
        assert len(ids) == len(set(ids))
        arcs = [name for name in names if name.startswith("arc__")]
        for row in rows_as_dicts(names, rows):
            assert sum(row[arc] for arc in arcs) == pytest.approx(1.0)
    elif query.kind == "nodeGraph":
        assert names == ["id", "source", "target"]
    elif query.kind == "timeseries":
        assert names[0] == "time"
    elif query.kind == "annotation":
        assert names == ["time", "text", "tags"]
    elif query.kind == "variable":
        assert len(names) == 1 and all(isinstance(row[0], str) for row in rows)
    elif query.kind == "trace-link":
        assert {"traceID", "spanID", "operationName", "parentSpanID", "serviceName",
                "duration", "startTime"} <= set(names)


def node_graph(scenario: Scenario, dashboard: str) -> tuple[dict[str, dict], set[tuple]]:
    (panel,) = [q for q in QUERIES if q.dashboard == dashboard and q.kind == "nodeGraph"
                and q.ref_id == "nodes"]
    (edges,) = [q for q in QUERIES if q.dashboard == dashboard and q.kind == "nodeGraph"
                and q.ref_id == "edges"]
    shown = panel_rows(scenario, panel.raw_sql, variables(scenario))
    nodes = {row["id"]: row for row in rows_as_dicts(*shown)}
    _, edge_rows = panel_rows(scenario, edges.raw_sql, variables(scenario))
    links = {(row[1], row[2]) for row in edge_rows}
    return nodes, links


def one(dashboard: str, title_start: str) -> PanelQuery:
    candidates = [q for q in QUERIES if q.dashboard == dashboard and q.kind != "trace-link"
                  and q.where.startswith(title_start)]
    (found,) = [q for q in candidates if q.where == title_start] or candidates
    return found


def table(scenario: Scenario, dashboard: str, title: str,
          values: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of one panel's query as dicts."""
    return rows_as_dicts(*panel_rows(scenario, one(dashboard, title).raw_sql, values))


def test_trace_table_is_the_python_trace(scenario: Scenario) -> None:
    python = mltrace.trace(scenario.prediction_id)
    names, rows = panel_rows(scenario, one("trace", "Trace of").raw_sql, variables(scenario))
    shown = rows_as_dicts(names, rows)
    assert [(row["level"], row["run_id"]) for row in shown] == [
        (level, run.id) for level, run in python]
    assert [row["component"] for row in shown] == ["predict", "train", "featurize", "clean",
                                                   "ingest"]
    for row, (_, run) in zip(shown, python):
        assert (row["status"], row["git"], row["trace_id"]) == (
            run.status, run.git_hash, run.trace_id)
        assert row["start"].replace(tzinfo=None) == run.start_timestamp.replace(tzinfo=None)
        assert row["stale"] == " ".join(run.stale)


def test_trace_graph_is_every_dependency_of_the_python_trace(scenario: Scenario) -> None:
    python = mltrace.trace(scenario.prediction_id)
    nodes, links = node_graph(scenario, "trace")
    assert set(nodes) == {run.id for _, run in python}
    assert links == {(dep, run.id) for _, run in python for dep in run.dependencies}
    for _, run in python:
        assert nodes[run.id]["title"] == run.component_name
        assert nodes[run.id]["mainstat"] == run.status
        assert nodes[run.id]["secondarystat"] == ("stale" if run.stale else "fresh")


def test_trace_of_a_stale_run_carries_the_exact_messages(scenario: Scenario) -> None:
    python = mltrace.trace("report_a.txt")
    shown = table(scenario, "trace", "Trace of", {"output_id": "report_a.txt"})
    (report,) = [run for _, run in python if run.component_name == "report"]
    assert report.stale == [
        f"load (ID {scenario.runs['load_old']}) has 1 fresher run that began before this "
        "component run started."]
    assert [row["stale"] for row in shown] == [" ".join(run.stale) for _, run in python]


def test_hostile_output_id_matches_literally(scenario: Scenario) -> None:
    shown = table(scenario, "trace", "Trace of", {"output_id": HOSTILE_POINTER})
    assert [row["run_id"] for row in shown] == [
        run.id for _, run in mltrace.trace(HOSTILE_POINTER)]
    assert shown[0]["run_id"] == scenario.runs["hostile"]


def test_staleness_dashboard_is_run_stale_of_every_run(scenario: Scenario) -> None:
    shown: dict[str, list[str]] = {}
    for row in table(scenario, "staleness", "Stale runs", {}):
        shown.setdefault(row["run_id"], []).append(row["message"])
    every = [run_id for (run_id,) in mltrace.query("SELECT DISTINCT SpanId FROM mltrace_runs")]
    python = {run_id: mltrace.get_component_run_information(run_id).stale for run_id in every}
    assert shown == {run_id: stale for run_id, stale in python.items() if stale}
    assert f"load (ID {scenario.runs['load_new']}) was run 44 days ago." in shown[
        scenario.runs["summary"]]
    per_component = {row["component"]: row["stale_runs"]
                     for row in table(scenario, "staleness", "Stale runs per component", {})}
    assert per_component["report"] == 1 and per_component["summary"] == 1


def test_latest_runs_are_mltrace_stale(scenario: Scenario) -> None:
    names, rows = panel_rows(scenario, one("overview", "Latest run").raw_sql, {})
    shown = {row["component"]: row for row in rows_as_dicts(names, rows)}
    stale = {run.component_name: run for run in mltrace.get_stale_runs()}
    assert {name for name, row in shown.items() if row["is_stale"]} == set(stale)
    for name, run in stale.items():
        assert shown[name]["run_id"] == run.id
        assert shown[name]["stale"] == " ".join(run.stale)


def test_recent_failures_show_the_exception_message(scenario: Scenario) -> None:
    names, rows = panel_rows(scenario, one("overview", "Recent failures").raw_sql, {})
    (failure,) = rows_as_dicts(names, rows)
    assert failure["component"] == "score_batch"
    assert "bad batch: 3 null ids" in failure["message"]


def test_review_suspects_are_mltrace_review(scenario: Scenario) -> None:
    python = mltrace.review(limit=None)
    names, rows = panel_rows(scenario, one("review", "Suspects").raw_sql, {})
    shown = rows_as_dicts(names, rows)
    assert [(row["run_id"], row["flagged"], row["involved"]) for row in shown] == [
        (suspect.run.id, suspect.count, suspect.involved) for suspect in python.suspects]
    for row, suspect in zip(shown, python.suspects):
        assert row["score"] == pytest.approx(suspect.score)
        assert row["coverage"] == pytest.approx(suspect.coverage)
    flagged = [row["OutputId"] for row in table(scenario, "review", "Flagged outputs", {})]
    assert flagged == python.flagged_outputs == scenario.flagged


def test_impact_is_mltrace_impact(scenario: Scenario) -> None:
    python = mltrace.impact(scenario.clean_csv)
    shown = table(scenario, "impact", "Runs downstream", variables(scenario))
    assert [(row["level"], row["run_id"]) for row in shown] == [
        (level, run.id) for level, run in python.runs]
    finals = [name for row in shown for name in row["final_outputs"].split(", ") if name]
    assert finals == [output.name for output in python.final_outputs]
    nodes, links = node_graph(scenario, "impact")
    runs = {run.id: run for _, run in python.runs}
    assert {node for node in nodes if node in runs} == set(runs)
    finals_shown = {node["title"] for node in nodes.values() if node["mainstat"] == "final output"}
    assert finals_shown == {output.name for output in python.final_outputs}
    between_runs = {(source, target) for source, target in links
                    if source in runs and target in runs}
    assert between_runs == {(dep, run.id) for run in runs.values() for dep in run.dependencies
                            if dep in runs}


def test_component_history_is_get_history(scenario: Scenario) -> None:
    shown = table(scenario, "component", "Runs of", {"component": "predict"})
    assert [row["run_id"] for row in shown] == [
        run.id for run in mltrace.get_history("predict", limit=1000)]



HOSTILE_VALUES = [
    "x' OR 1=1 --",
    "\\' OR 1=1 --",
    "x\\",
    "a\nb' OR '1'='1",
    "') UNION ALL SELECT SpanId FROM mltrace_runs --",
    "${output_id} $__timeFilter(x) {x:String}",
    "é\t\"\0",
]
WITH_VARIABLES = [query for query in QUERIES if "percentencode}" in query.raw_sql]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("query", WITH_VARIABLES,
                         ids=lambda q: f"{q.dashboard}:{q.where}:{q.ref_id}")
def test_hostile_variable_values_match_nothing(scenario: Scenario, query: PanelQuery,
                                               value: str) -> None:
    hostile = dict.fromkeys(("output_id", "component", "pointer", "__value"), value)
    _, rows = panel_rows(scenario, query.raw_sql, hostile)
    assert rows == [], f"{query.dashboard} / {query.where} with {value!r}"


def test_sqlstring_and_singlequote_do_not_protect_clickhouse(scenario: Scenario) -> None:
    """Why the dashboards percent-encode: Grafana's SQL formats escape quotes but not
    backslashes, and ClickHouse reads a backslash in a literal as an escape."""
    value = "\\' OR 1=1 --"
    everything = mltrace.query("SELECT count() FROM mltrace_io")[0][0]
    for fmt in ("sqlstring", "singlequote"):
        sql = f"SELECT count() FROM mltrace_io WHERE Pointer = ${{v:{fmt}}}"
        assert mltrace.query(interpolate(sql, {"v": value})) == [(everything,)], fmt
    safe = "SELECT count() FROM mltrace_io WHERE Pointer = decodeURLComponent('${v:percentencode}')"
    assert mltrace.query(interpolate(safe, {"v": value})) == [(0,)]


def test_the_grafana_user_reads_with_a_query_timeout_and_cannot_write(scenario: Scenario) -> None:
    """What the plugin needs of its read-only user: queries with ``max_execution_time`` (the
    plugin's clickhouse-go client sends it as an HTTP parameter) work; writes are refused."""
    request = urllib.request.Request(
        f"{scenario.url}/?max_execution_time=30", data=b"SELECT count() FROM mltrace_runs",
        headers={"X-ClickHouse-User": GRAFANA_USER, "X-ClickHouse-Key": GRAFANA_PASSWORD})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert int(response.read()) >= 11
    for statement in ("INSERT INTO mltrace_flags (OutputId, Flagged) VALUES ('x', 1)",
                      "DROP TABLE mltrace_flags", "CREATE TABLE t (x UInt8) ENGINE = Memory"):
        with pytest.raises(Exception, match=r"(?i)readonly"):
            scenario.client.command(statement)
    assert mltrace.review_flagged_outputs()[0] == scenario.flagged
