-- Runs with span links or set_upstream components, logged in (after_ns, until_ns]: the
-- lineage index leaves their dependencies to the store.
SELECT DISTINCT reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run
FROM mltrace_io
WHERE (notEmpty(RunUpstream) OR notEmpty(RunLinks))
  AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
