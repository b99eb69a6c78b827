-- Overview: runs per component over time (one series per component).
SELECT $__timeInterval(StartTime) AS time, Component, count() AS runs
FROM (SELECT SpanId, Component, StartTime FROM mltrace_runs WHERE $__timeFilter(StartTime) LIMIT 1 BY SpanId)
GROUP BY time, Component
ORDER BY time, Component
