-- Every run that could satisfy a lineage need (SPEC 3.3), by the kind of need: an input pointer
-- (runs that wrote it, with the version they wrote), a set_upstream component name (its runs)
-- or a span link (the linked run itself). A plain view for SQL that walks lineage in one
-- statement (the Grafana panels in queries/grafana/); it stores nothing.
CREATE VIEW IF NOT EXISTS mltrace_producer_candidates AS
SELECT 'input' AS Kind, Pointer AS Key, Version, SpanId, StartTime, EndTime,
       LoggedAt AS Logged
FROM mltrace_io WHERE Direction = 'output'
UNION ALL
SELECT 'upstream', Component, '', SpanId, StartTime, EndTime, LoggedAt
FROM mltrace_runs
UNION ALL
SELECT 'link', SpanId, '', SpanId, StartTime, EndTime, LoggedAt
FROM mltrace_runs
