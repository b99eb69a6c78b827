-- Staleness: per component, how many of its runs in the time range are stale, out of all.
WITH
    subjects AS (
        SELECT DISTINCT SpanId FROM mltrace_runs WHERE $__timeFilter(StartTime)
    ),
{{> grafana/_staleness}}
SELECT
    run.Component AS component,
    countIf(length(staleness.Messages) > 0) AS stale_runs,
    count() AS runs
FROM subjects
INNER JOIN (SELECT SpanId, Component FROM mltrace_runs LIMIT 1 BY SpanId) AS run
    ON run.SpanId = subjects.SpanId
LEFT JOIN staleness ON staleness.RunId = subjects.SpanId
GROUP BY component
ORDER BY stale_runs DESC, component
