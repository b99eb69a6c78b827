"""SPEC 5, proven: the built Collector's ClickHouse exporter (``create_schema: true``) creates
in an empty database of ``mltrace serve`` exactly the ``otel_traces`` table, trace-id table and
view that ``mltrace init-db`` creates in a fresh home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _binaries import BUILD_TIMEOUT
from _services import clickhouse_json, collector, free_port, serve, wait_until
from _support import CLI_TIMEOUT, subprocess_env
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link

# A first test may build the binaries (see _binaries.py): allow a cold build.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 600)

OBJECTS = ["otel_traces", "otel_traces_trace_id_ts", "otel_traces_trace_id_ts_mv"]
EXPORTER_DATABASE = "otelcol"

TABLES = """
    SELECT name, engine, engine_full, partition_key, sorting_key, primary_key, sampling_key,
           create_table_query, as_select
    FROM system.tables WHERE database = {db:String} AND name LIKE 'otel\\_traces%'
    ORDER BY name
"""
COLUMNS = """
    SELECT table, position, name, type, default_kind, default_expression, compression_codec,
           is_in_partition_key, is_in_sorting_key, is_in_primary_key, is_in_sampling_key
    FROM system.columns WHERE database = {db:String} AND table LIKE 'otel\\_traces%'
    ORDER BY table, position
"""
INDEXES = """
    SELECT table, name, type, type_full, expr, granularity
    FROM system.data_skipping_indices
    WHERE database = {db:String} AND table LIKE 'otel\\_traces%'
    ORDER BY table, name
"""


def schema(url: str, database: str) -> dict[str, list[dict]]:
    """Tables (engine, keys, full DDL, view query), columns (type, codec, key membership) and
    skipping indexes of the otel_traces objects, with the database name written as ``DB``."""

    def rows(sql: str) -> list[dict]:
        return [
            {key: value.replace(f"{database}.", "DB.") if isinstance(value, str) else value
             for key, value in row.items()}
            for row in clickhouse_json(url, sql, db=database)
        ]

    return {"tables": rows(TABLES), "columns": rows(COLUMNS), "indexes": rows(INDEXES)}


def send_spans(endpoint: str) -> int:
    """Two traces (a parent with an event, a child with a link) sent over OTLP/HTTP; returns
    the number of spans."""
    provider = TracerProvider(resource=Resource.create({"service.name": "schema-check"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("schema-check")
    count = 0
    for trace in range(2):
        with tracer.start_as_current_span(f"parent{trace}", attributes={"n": trace}) as parent:
            parent.add_event("started", {"trace": trace})
            with tracer.start_as_current_span("child", links=[Link(parent.get_span_context())]):
                count += 2
    provider.shutdown()
    return count


def test_the_collector_creates_exactly_the_tables_init_db_creates(tmp_path: Path) -> None:
    with serve(tmp_path / "collector_home", tmp_path / "logs").start() as server:
        databases = "SELECT name FROM system.databases WHERE name = {db:String}"
        assert clickhouse_json(server.url, databases, db=EXPORTER_DATABASE) == []
        otelcol = collector(
            tmp_path / "collector", server.url, f"127.0.0.1:{free_port()}",
            database=EXPORTER_DATABASE, compress="lz4",
        )
        with otelcol.start():
            sent = send_spans(f"{otelcol.otlp_http_endpoint}/v1/traces")

            def stored(table: str) -> int:
                sql = f"SELECT count() AS n FROM {table}"
                return int(clickhouse_json(server.url, sql, EXPORTER_DATABASE)[0]["n"])

            wait_until(lambda: stored("otel_traces") == sent, 30, f"{sent} spans in otel_traces")
        assert stored("otel_traces_trace_id_ts") == 2
        made_by_exporter = schema(server.url, EXPORTER_DATABASE)

    init_home = tmp_path / "init_home"
    proc = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "init-db"],
        env=subprocess_env(init_home), capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    with serve(init_home, tmp_path / "logs_init").start() as server:
        made_by_init_db = schema(server.url, "default")

    for made in (made_by_exporter, made_by_init_db):
        assert [table["name"] for table in made["tables"]] == OBJECTS
        assert sum(c["table"] == "otel_traces" for c in made["columns"]) == 22  # Nested flattened
        assert len(made["indexes"]) == 7
    traces = made_by_exporter["tables"][0]
    assert traces["engine"] == "MergeTree"
    assert "CODEC(ZSTD(3))" in traces["create_table_query"]
    assert made_by_exporter == made_by_init_db
