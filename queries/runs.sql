-- Runs by span id, a line each: a JSON array of the span id and the run's record
-- (mltrace_runs.Record: what a Run is built from; mltrace_otel/store/records.py names its
-- fields), read as TabSeparatedRaw and parsed as one document. Two columns instead of
-- seventeen: runs scattered over a large table cost a granule read per run and column.
SELECT concat('["', SpanId, '",', Record, ']') AS Run
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
