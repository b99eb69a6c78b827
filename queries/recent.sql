-- The most recent runs of any component, newest first: a top-N read of the newest
-- {candidates} rows, not a sort of every run. A run has several rows only when its span was
-- stored more than once (same StartTime), so the newest rows, deduplicated, hold the newest
-- runs; when they hold fewer than {limit} runs the caller asks again with every row.
SELECT SpanId
FROM (
    SELECT SpanId, StartTime
    FROM mltrace_runs
    ORDER BY StartTime DESC, SpanId DESC
    LIMIT {candidates:UInt64}
)
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT {limit:UInt64}
