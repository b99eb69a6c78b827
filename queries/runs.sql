-- Full records of the runs with the given span ids.
SELECT
    SpanId, TraceId, Component, ServiceName, StartTime, EndTime, StatusCode, StatusMessage,
    Inputs, InputVersions, InputTypes, Outputs, OutputVersions, OutputTypes, Upstream,
    LinkSpanIds, Attributes, EventTimestamps, EventNames, EventAttributes,
    toUnixTimestamp64Nano(StartTime) AS StartNs
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
