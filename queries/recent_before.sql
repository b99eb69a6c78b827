-- mltrace's paging of recent runs: the runs that started no later than run {last} (which
-- started at {before}), without it, newest first.
SELECT SpanId
FROM mltrace_runs
WHERE StartTime <= {before:DateTime64(9, 'UTC')}
  AND SpanId != {last:String}
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT {limit:UInt64}
