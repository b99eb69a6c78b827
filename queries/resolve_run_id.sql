-- Run ids starting with a prefix (at most two, enough to tell unique from ambiguous).
SELECT DISTINCT SpanId
FROM mltrace_runs
WHERE startsWith(SpanId, {prefix:String})
LIMIT 2
