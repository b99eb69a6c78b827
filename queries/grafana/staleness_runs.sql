-- Staleness: every stale run that started in the time range, one row per staleness message
-- (the exact SPEC 3.4 messages of `run.stale`), newest run first.
WITH
    subjects AS (
        SELECT DISTINCT SpanId FROM mltrace_runs WHERE $__timeFilter(StartTime)
    ),
{{> grafana/_staleness}}
SELECT
    run.Component AS component,
    run.SpanId AS run_id,
    run.StartTime AS start,
    message
FROM staleness
ARRAY JOIN Messages AS message
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = staleness.RunId
ORDER BY start DESC, run_id DESC
