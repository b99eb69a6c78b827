-- Overview: the latest run of each component (as queries/latest_runs.sql picks it), how
-- long ago it started, its status and its staleness messages (as `mltrace stale` shows them).
WITH
    subjects AS (
        SELECT argMax(SpanId, StartTime) AS SpanId
        FROM mltrace_run_starts
        GROUP BY Component
    ),
{{> grafana/_staleness}}
SELECT
    run.Component AS component,
    run.SpanId AS run_id,
    run.StartTime AS start,
    dateDiff('second', run.StartTime, now64(9)) AS age_seconds,
    multiIf(run.StatusCode = 'Ok', 'OK', run.StatusCode = 'Error', 'ERROR', 'UNSET') AS status,
    length(staleness.Messages) > 0 AS is_stale,
    arrayStringConcat(staleness.Messages, ' ') AS stale
FROM subjects
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = subjects.SpanId
LEFT JOIN staleness ON staleness.RunId = subjects.SpanId
ORDER BY component
