-- Full records of the runs with the given span ids (times as Unix nanoseconds, which decode
-- faster than DateTime64 text).
SELECT
    SpanId, TraceId, Component, ServiceName, StatusCode, StatusMessage,
    Inputs, InputVersions, InputTypes, Outputs, OutputVersions, OutputTypes, Upstream,
    LinkSpanIds, Attributes, EventNames, EventAttributes,
    toUnixTimestamp64Nano(StartTime) AS StartNs, toUnixTimestamp64Nano(EndTime) AS EndNs
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
