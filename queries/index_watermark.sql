-- Newest logged run: the lineage index loads rows up to here.
SELECT toUnixTimestamp64Nano(max(LoggedAt)) AS LoggedNs FROM mltrace_runs
