-- Runs of one component, newest first, optionally within [lower, upper].
SELECT SpanId
FROM mltrace_runs
WHERE Component = {component:String}
  AND StartTime >= {lower:DateTime64(9, 'UTC')}
  AND StartTime <= {upper:DateTime64(9, 'UTC')}
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT {limit:UInt64}
