-- What a downstream walk needs of runs: component, start, the pointers they wrote and their
-- lineage index keys (first 8 bytes of MD5), and whether continuation spans carry more of
-- them (queries/continuation_pointers.sql reads those).
SELECT SpanId, Component, toUnixTimestamp64Nano(StartTime) AS StartNs, Outputs,
       arrayMap(name -> reinterpretAsUInt64(substring(MD5(name), 1, 8)), Outputs) AS OutputKeys,
       Attributes['{{RUN_CONTINUATION_SPANS}}'] NOT IN ('', '0') AS Continued
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
