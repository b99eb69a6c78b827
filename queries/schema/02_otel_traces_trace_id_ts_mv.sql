-- The exporter's view feeding otel_traces_trace_id_ts, verbatim for the same pinned version
-- (internal/sqltemplates/traces_id_ts_lookup_mv.sql), filled in like 00_otel_traces.sql.
CREATE MATERIALIZED VIEW IF NOT EXISTS otel_traces_trace_id_ts_mv
TO otel_traces_trace_id_ts
AS SELECT
              TraceId,
              min(Timestamp) as Start,
              max(Timestamp) as End
   FROM otel_traces
   WHERE TraceId != ''
   GROUP BY TraceId
