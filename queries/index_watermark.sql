-- Newest logged row of the run table and of the pointer index (continuation rows are logged
-- a moment after their run): the lineage index loads rows up to here.
SELECT toUnixTimestamp64Nano(greatest(
    (SELECT max(LoggedAt) FROM mltrace_runs),
    (SELECT max(LoggedAt) FROM mltrace_io)
)) AS LoggedNs
