-- Runs of components named with set_upstream that started no later than {until_ns}.
SELECT Component, SpanId,
       toUnixTimestamp64Nano(StartTime) AS StartNs,
       toUnixTimestamp64Nano(EndTime) AS EndNs
FROM mltrace_runs
WHERE Component IN {components:Array(String)}
  AND StartTime <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
