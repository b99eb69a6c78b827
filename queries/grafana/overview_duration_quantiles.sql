-- Overview: run duration p50 and p95 (seconds) over time, all components together.
SELECT $__timeInterval(StartTime) AS time,
       quantileExact(0.5)(Seconds) AS p50_seconds,
       quantileExact(0.95)(Seconds) AS p95_seconds
FROM (
    SELECT SpanId, StartTime,
           (toUnixTimestamp64Nano(EndTime) - toUnixTimestamp64Nano(StartTime)) / 1e9 AS Seconds
    FROM mltrace_runs
    WHERE $__timeFilter(StartTime)
    LIMIT 1 BY SpanId
)
GROUP BY time
ORDER BY time
