-- Component: duration (seconds) of each run of component (variable "component") over time.
SELECT StartTime AS time,
       (toUnixTimestamp64Nano(EndTime) - toUnixTimestamp64Nano(StartTime)) / 1e9 AS duration_seconds
FROM mltrace_runs
WHERE Component = decodeURLComponent('${component:percentencode}') AND $__timeFilter(StartTime)
ORDER BY StartTime, SpanId
LIMIT 1 BY SpanId
