-- Component and start (microseconds since the epoch) of runs by id.
SELECT SpanId, Component, toUnixTimestamp64Micro(StartTime) AS StartUs
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
