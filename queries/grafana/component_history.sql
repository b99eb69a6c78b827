-- Component: the runs of component (variable "component") in the time range, newest first
-- (queries/history.sql's order), with status, duration, git commit and code hash.
SELECT
    StartTime AS start,
    SpanId AS run_id,
    multiIf(StatusCode = 'Ok', 'OK', StatusCode = 'Error', 'ERROR', 'UNSET') AS status,
    (toUnixTimestamp64Nano(EndTime) - toUnixTimestamp64Nano(StartTime)) / 1e9 AS duration_seconds,
    Attributes['{{VCS_REF_HEAD_REVISION}}'] AS git,
    Attributes['{{RUN_CODE_SNAPSHOT_HASH}}'] AS code_hash,
    StatusMessage AS message,
    TraceId AS trace_id
FROM mltrace_runs
WHERE Component = decodeURLComponent('${component:percentencode}') AND $__timeFilter(StartTime)
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT 1000
