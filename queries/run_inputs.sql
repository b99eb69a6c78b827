-- What a lineage walk needs of runs it reached through a link or set_upstream.
SELECT SpanId, toUnixTimestamp64Nano(StartTime) AS StartNs,
       Inputs, InputVersions, Upstream, LinkSpanIds
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
