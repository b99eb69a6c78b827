-- Runs with span links or set_upstream components, logged in (after_ns, until_ns]: the
-- lineage index leaves their dependencies to the store. (Read from mltrace_runs, not the
-- pointer index: such a run may read and write no pointer at all.)
SELECT DISTINCT reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run
FROM mltrace_runs
WHERE (notEmpty(Upstream) OR notEmpty(LinkSpanIds))
  AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
