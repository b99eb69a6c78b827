-- What a downstream walk needs of runs: component, start, and the pointers they wrote.
SELECT SpanId, Component, toUnixTimestamp64Nano(StartTime) AS StartNs, Outputs
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
