-- Overview: the most recent failed runs (status ERROR) in the time range, with the recorded
-- exception message (the span status description).
SELECT StartTime AS start, Component AS component, SpanId AS run_id, StatusMessage AS message,
       TraceId AS trace_id
FROM mltrace_runs
WHERE StatusCode = 'Error' AND $__timeFilter(StartTime)
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT 100
