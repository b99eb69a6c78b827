-- What a lineage walk needs of runs it reached through a link, set_upstream, or a pointer
-- carried by a continuation span: the run span's inputs, and whether continuation spans carry
-- more of them (queries/continuation_pointers.sql reads those only for such runs: mltrace_io is
-- ordered by pointer, so reading it by span id scans the whole table).
SELECT SpanId, toUnixTimestamp64Nano(StartTime) AS StartNs, Inputs, InputVersions,
       Upstream, LinkSpanIds, has(Attributes.keys, '{{RUN_CONTINUATION_SPANS}}') AS Continued
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
