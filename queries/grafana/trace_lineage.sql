-- Trace dashboard, table: the lineage of output (variable "output_id") as `mltrace trace` prints it
-- (SPEC 3.4): level 0 is the latest run that wrote it, then its dependencies depth-first,
-- newest dependency first, each run once at the level where that walk meets it first.
-- Dependencies follow SPEC 3.3 (latest producer of each input that started no later than the
-- reader, at the reader's version when it names one; ties by later end, then later logged;
-- set_upstream components; span links). The recursion keeps, per level, one row per run with
-- its smallest depth-first path (sibling ranks, newest first) and every consumer that reached
-- it; the smallest path over all levels is the walk's first visit. Depth is bounded at 100.
{{> grafana/_lineage_walk}},
    subjects AS (SELECT Run AS SpanId FROM visited),
{{> grafana/_staleness}}
SELECT
    visited.FirstLevel AS level,
    run.Component AS component,
    run.SpanId AS run_id,
    run.StartTime AS start,
    run.Attributes['{{VCS_REF_HEAD_REVISION}}'] AS git,
    multiIf(run.StatusCode = 'Ok', 'OK', run.StatusCode = 'Error', 'ERROR', 'UNSET') AS status,
    arrayStringConcat(staleness.Messages, ' ') AS stale,
    run.TraceId AS trace_id
FROM visited
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = visited.Run
LEFT JOIN staleness ON staleness.RunId = visited.Run
ORDER BY visited.FirstPath
