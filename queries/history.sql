-- Runs of one component, newest first, optionally within [lower_us, upper_us]: microseconds
-- since the epoch, the precision of the timestamps a Run gives back (so a run's own
-- start_timestamp bounds it, though its start is stored to the nanosecond).
SELECT SpanId
FROM mltrace_runs
WHERE Component = {component:String}
  AND toUnixTimestamp64Micro(StartTime) >= {lower_us:Int64}
  AND toUnixTimestamp64Micro(StartTime) <= {upper_us:Int64}
ORDER BY StartTime DESC, SpanId DESC
LIMIT 1 BY SpanId
LIMIT {limit:UInt64}
