-- mltrace's paging of recent runs: the runs after run {last} in newest-first order (started
-- before it, or at the same nanosecond with a smaller span id), newest first.
SELECT SpanId
FROM mltrace_runs
WHERE (StartTime, SpanId) < (
    SELECT (StartTime, SpanId) FROM mltrace_runs WHERE SpanId = {last:String} LIMIT 1
)
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT {limit:UInt64}
