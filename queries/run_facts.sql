-- What a downstream walk needs of runs: component, start, the pointers they wrote and their
-- lineage index keys (first 8 bytes of MD5), and whether continuation spans may carry more
-- of them (queries/continuation_pointers.sql reads those). Continued reads the attribute
-- names only: runs scattered over the table cost a granule per run and column read, and the
-- values hold code snapshots (10^4 runs of 10^6: 87 ms more for the whole map).
SELECT SpanId, Component, toUnixTimestamp64Nano(StartTime) AS StartNs, Outputs,
       arrayMap(name -> reinterpretAsUInt64(substring(MD5(name), 1, 8)), Outputs) AS OutputKeys,
       has(Attributes.keys, '{{RUN_CONTINUATION_SPANS}}') AS Continued
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
