-- Full records of the runs with the given span ids (times as Unix nanoseconds, which decode
-- faster than DateTime64 text), with the lineage index keys of their outputs (first 8 bytes
-- of MD5, computed here rather than one hash at a time in Python). Only the columns a Run
-- holds: every column costs a read of its granules, empty or not (~35 ms for 10^4 runs
-- scattered over 10^6); lineage facts (upstream names, links) come from run_inputs.sql.
SELECT
    SpanId, TraceId, Component, ServiceName, StatusCode, StatusMessage,
    Inputs, InputVersions, InputTypes, Outputs, OutputVersions, OutputTypes,
    Attributes, EventNames, EventAttributes,
    toUnixTimestamp64Nano(StartTime) AS StartNs, toUnixTimestamp64Nano(EndTime) AS EndNs,
    arrayMap(name -> reinterpretAsUInt64(substring(MD5(name), 1, 8)), Outputs) AS OutputKeys
FROM mltrace_runs
WHERE SpanId IN {ids:Array(String)}
LIMIT 1 BY SpanId
