-- Runs of components named with set_upstream that started no later than {until_ns}, with
-- what breaks ties between runs that started together (later end, then later logged, as for
-- pointers: SPEC 3.3).
SELECT Component, SpanId,
       toUnixTimestamp64Nano(StartTime) AS StartNs,
       toUnixTimestamp64Nano(EndTime) AS EndNs,
       toUnixTimestamp64Nano(LoggedAt) AS LoggedNs
FROM mltrace_runs
WHERE Component IN {components:Array(String)}
  AND StartTime <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
