-- The most recent runs of any component, newest first.
SELECT SpanId
FROM mltrace_runs
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT {limit:UInt64}
