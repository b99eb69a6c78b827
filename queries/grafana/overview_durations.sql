-- Overview: run duration quantiles (seconds) per component over the dashboard's time range.
SELECT
    Component AS component,
    count() AS runs,
    countIf(StatusCode = 'Error') AS errors,
    countIf(StatusCode = 'Error') / count() AS error_rate,
    quantileExact(0.5)(Seconds) AS p50_seconds,
    quantileExact(0.95)(Seconds) AS p95_seconds
FROM (
    SELECT SpanId, Component, StatusCode,
           (toUnixTimestamp64Nano(EndTime) - toUnixTimestamp64Nano(StartTime)) / 1e9 AS Seconds
    FROM mltrace_runs
    WHERE $__timeFilter(StartTime)
    LIMIT 1 BY SpanId
)
GROUP BY component
ORDER BY component
