-- The pointers that continuation spans carry, in {direction} ('input' or 'output'), for runs
-- whose pointers did not fit in the run span (docs/conventions.md), indexed under the run's
-- span id by mltrace_io_parts_mv; with the lineage index keys of the pointers (first 8 bytes
-- of MD5), which forward walks match outputs by.
SELECT SpanId, groupArray(Pointer) AS Pointers, groupArray(Version) AS Versions,
       groupArray(reinterpretAsUInt64(substring(MD5(Pointer), 1, 8))) AS Keys
FROM mltrace_io
WHERE SpanId IN {ids:Array(String)} AND Direction = {direction:String} AND has(RunLinks, SpanId)
GROUP BY SpanId
