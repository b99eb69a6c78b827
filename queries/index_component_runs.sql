-- Runs of the components some run names with set_upstream, for the in-memory lineage index:
-- those of {known} logged in (after_ns, until_ns], and every run of {new} (components named
-- for the first time) logged up to until_ns.
SELECT
    toString(Component) AS Component,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    toUnixTimestamp64Nano(EndTime) AS EndNs,
    toUnixTimestamp64Nano(LoggedAt) AS LoggedNs,
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run
FROM mltrace_runs
WHERE LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
  AND (Component IN {new:Array(String)}
       OR (Component IN {known:Array(String)}
           AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')))
