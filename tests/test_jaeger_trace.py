"""Jaeger for real: the built Collector fans the pipeline's spans out to the built Jaeger v2
(in-memory storage), and Jaeger's HTTP query API shows one pipeline execution as one trace with
a span per stage, the ``mltrace.*`` attributes as tags and the dependency links as references.

The SDK records a dependency as a span link when the producing run was logged by the same
process (``sdk/links.py``); dependencies across processes are found by the lineage queries and
are not links, so Jaeger shows exactly the links that ``otel_traces`` holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _binaries import BUILD_TIMEOUT
from _churn import EXTRA_RUNS, SPANS, STAGES, run_pipeline
from _services import clickhouse_json, collector, http_get, jaeger, serve, wait_until
from _support import subprocess_env

from mltrace_otel import semconv

# A first test may build the binaries (see _binaries.py): allow a cold build.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 600)


def jaeger_traces(query_url: str, path: str) -> list[dict]:
    status, body = http_get(f"{query_url}{path}")
    return json.loads(body)["data"] or [] if status == 200 else []


def test_one_pipeline_execution_is_one_jaeger_trace(tmp_path: Path) -> None:
    with (
        jaeger(tmp_path / "jaeger").start() as viewer,
        serve(tmp_path / "served", tmp_path / "logs").start() as server,
    ):
        otelcol = collector(tmp_path / "collector", server.url, viewer.otlp_grpc_endpoint)
        with otelcol.start():
            env = subprocess_env(tmp_path / "outbox", MLTRACE_BACKEND="otlp",
                                 OTEL_EXPORTER_OTLP_ENDPOINT=otelcol.otlp_http_endpoint)
            trace_id, data_dir = run_pipeline(tmp_path / "run", env)

            def complete() -> bool:
                found = jaeger_traces(viewer.query_url, f"/api/traces/{trace_id}")
                return bool(found) and len(found[0]["spans"]) == SPANS

            wait_until(complete, 60, f"{SPANS} spans of trace {trace_id} in Jaeger")
        (trace,) = jaeger_traces(viewer.query_url, f"/api/traces/{trace_id}")
        wait_until(lambda: len(stored_links(server.url, trace_id)) == SPANS, 60,
                   f"{SPANS} spans of trace {trace_id} in otel_traces")
        links = stored_links(server.url, trace_id)
        services = {process["serviceName"] for process in trace["processes"].values()}
        (service,) = services
        listed = jaeger_traces(viewer.query_url, f"/api/traces?service={service}&limit=20")

    assert [found["traceID"] for found in listed] == [trace_id]  # one execution, one trace
    spans = trace["spans"]
    by_name: dict[str, list[dict]] = {}
    for span in spans:
        by_name.setdefault(span["operationName"], []).append(span)
    names = sorted(name for name in by_name if name not in (*STAGES, *EXTRA_RUNS))
    assert names == ["churn"], names
    (root,) = by_name["churn"]
    assert root["references"] == []
    assert tags(root)[semconv.PIPELINE_NAME] == "churn"

    runs = [span for span in spans if span is not root]
    assert sorted(span["operationName"] for span in runs) == sorted((*STAGES, *EXTRA_RUNS))
    for span in runs:
        parents = [ref for ref in span["references"] if ref["refType"] == "CHILD_OF"]
        assert [ref["spanID"] for ref in parents] == [root["spanID"]]
        found = tags(span)
        assert found[semconv.COMPONENT_NAME] == span["operationName"]
        assert semconv.RUN_INPUTS in found and semconv.RUN_OUTPUTS in found

    def references(span: dict) -> set[str]:
        return {ref["spanID"] for ref in span["references"] if ref["refType"] == "FOLLOWS_FROM"}

    for span in spans:  # Jaeger's references are the span links the store holds
        assert references(span) == links[span["spanID"]], span["operationName"]

    def upstream(name: str) -> set[str]:
        (span,) = by_name[name]
        return {other["operationName"] for other in spans if other["spanID"] in references(span)}

    # Within one process (ingest, clean, featurize; the driver's extract and load) the SDK
    # links a run to the run that produced its input.
    assert upstream("clean") == {"ingest"}
    assert upstream("featurize") == {"clean"}
    first_extract = min(by_name["extract"], key=lambda span: span["startTime"])
    (load,) = by_name["load"]
    assert references(load) == {first_extract["spanID"]}
    assert str(data_dir) in tags(load)[semconv.RUN_INPUTS]


def stored_links(url: str, trace_id: str) -> dict[str, set[str]]:
    """Span id -> the span ids of its links, as otel_traces holds them for ``trace_id``."""
    sql = "SELECT SpanId, Links.SpanId AS links FROM otel_traces WHERE TraceId = {trace:String}"
    return {row["SpanId"]: set(row["links"]) for row in clickhouse_json(url, sql, trace=trace_id)}


def tags(span: dict) -> dict[str, str]:
    return {tag["key"]: str(tag["value"]) for tag in span["tags"]}
