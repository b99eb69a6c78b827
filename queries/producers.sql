-- Candidate producers of pointers: runs that wrote one of them and started no later than
-- {until_ns}. The lineage rule (SPEC 3.3: latest producer that started no later than the
-- consumer, at the consumer's version if it names one; ties by later end, then later
-- logged) is applied per consumer to these rows. Each row carries the producer's own
-- inputs, so a walk continues without another lookup (unless RunContinued: continuation
-- spans carry more of them).
SELECT Pointer, Version, SpanId,
       toUnixTimestamp64Nano(StartTime) AS StartNs,
       toUnixTimestamp64Nano(EndTime) AS EndNs,
       toUnixTimestamp64Nano(LoggedAt) AS LoggedNs,
       RunInputs, RunInputVersions, RunUpstream, RunLinks, RunContinued
FROM mltrace_io
WHERE Direction = 'output'
  AND Pointer IN {pointers:Array(String)}
  AND StartTime <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
