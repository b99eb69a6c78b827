-- The inputs that continuation spans carry for runs whose pointers did not fit in the run span
-- (docs/conventions.md), indexed under the run's span id by mltrace_io_parts_mv.
SELECT SpanId, groupArray(Pointer) AS Inputs, groupArray(Version) AS Versions
FROM mltrace_io
WHERE SpanId IN {ids:Array(String)} AND Direction = 'input' AND has(RunLinks, SpanId)
GROUP BY SpanId
