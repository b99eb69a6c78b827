-- Overview: share of runs that ended with status ERROR, per component over time.
SELECT $__timeInterval(StartTime) AS time, Component, countIf(StatusCode = 'Error') / count() AS error_rate
FROM (SELECT SpanId, Component, StartTime, StatusCode FROM mltrace_runs WHERE $__timeFilter(StartTime) LIMIT 1 BY SpanId)
GROUP BY time, Component
ORDER BY time, Component
