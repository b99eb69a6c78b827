CREATE MATERIALIZED VIEW IF NOT EXISTS mltrace_run_starts_mv TO mltrace_run_starts AS
SELECT Component, StartTime, SpanId
FROM mltrace_runs
