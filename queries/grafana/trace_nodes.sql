-- Trace dashboard, Node Graph nodes: the runs in the lineage of output (variable "output_id")
-- (the runs of trace_lineage.sql): component, status, staleness.
-- Dependencies follow SPEC 3.3 (latest producer of each input that started no later than the
-- reader, at the reader's version when it names one; ties by later end, then later logged;
-- set_upstream components; span links). The recursion keeps, per level, one row per run with
-- its smallest depth-first path (sibling ranks, newest first) and every consumer that reached
-- it; the smallest path over all levels is the walk's first visit. Depth is bounded at 100.
{{> grafana/_lineage_walk}},
    subjects AS (SELECT Run AS SpanId FROM visited),
{{> grafana/_staleness}}
SELECT
    run.SpanId AS id,
    run.Component AS title,
    run.SpanId AS subtitle,
    multiIf(run.StatusCode = 'Ok', 'OK', run.StatusCode = 'Error', 'ERROR', 'UNSET') AS mainstat,
    if(length(staleness.Messages) > 0, 'stale', 'fresh') AS secondarystat,
    toFloat64(run.StatusCode = 'Ok') AS arc__ok,
    toFloat64(run.StatusCode = 'Error') AS arc__error,
    toFloat64(run.StatusCode NOT IN ('Ok', 'Error')) AS arc__unset,
    visited.FirstLevel AS detail__level,
    toString(run.StartTime) AS detail__start,
    run.Attributes['{{VCS_REF_HEAD_REVISION}}'] AS detail__git,
    arrayStringConcat(staleness.Messages, ' ') AS detail__stale,
    length(staleness.Messages) > 0 AS highlighted
FROM visited
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = visited.Run
LEFT JOIN staleness ON staleness.RunId = visited.Run
ORDER BY visited.FirstPath
