-- What a lineage walk needs of runs it reached through a link, set_upstream, or a pointer
-- carried by a continuation span: the run span's inputs plus those of its continuations.
SELECT r.SpanId, toUnixTimestamp64Nano(r.StartTime) AS StartNs,
       arrayConcat(r.Inputs, parts.Inputs) AS Inputs,
       arrayConcat(r.InputVersions, parts.Versions) AS InputVersions,
       r.Upstream, r.LinkSpanIds
FROM (
    SELECT SpanId, StartTime, Inputs, InputVersions, Upstream, LinkSpanIds
    FROM mltrace_runs
    WHERE SpanId IN {ids:Array(String)}
    LIMIT 1 BY SpanId
) AS r
LEFT JOIN (
    SELECT SpanId, groupArray(Pointer) AS Inputs, groupArray(Version) AS Versions
    FROM mltrace_io
    WHERE SpanId IN {ids:Array(String)} AND Direction = 'input' AND has(RunLinks, SpanId)
    GROUP BY SpanId
) AS parts ON parts.SpanId = r.SpanId
