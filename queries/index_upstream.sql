-- Components named with set_upstream by the runs logged in (after_ns, until_ns], in the order
-- named (Position), with the naming run's start, for the in-memory lineage index.
SELECT
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    component AS Component,
    toUInt32(position) AS Position
FROM mltrace_runs
ARRAY JOIN Upstream AS component, arrayEnumerate(Upstream) AS position
WHERE LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
