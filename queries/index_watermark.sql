-- Newest logged row of the run table and of the pointer index (continuation rows are logged
-- a moment after their run) among the rows logged after {after_ns}: the lineage index loads
-- rows up to here. The minmax index on LoggedAt skips the granules logged before (0 when no
-- row is newer).
SELECT toUnixTimestamp64Nano(greatest(
    (SELECT max(LoggedAt) FROM mltrace_runs
     WHERE LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')),
    (SELECT max(LoggedAt) FROM mltrace_io
     WHERE LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC'))
)) AS LoggedNs
