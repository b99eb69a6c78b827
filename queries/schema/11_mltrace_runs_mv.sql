-- LoggedAt orders the rows of one insert as they were exported (the order a process ended
-- its spans), so "later logged" (SPEC 3.3 ties) agrees with the SDK's span links.
-- Attributes drops the keys the columns already hold (10_mltrace_runs.sql).
-- LinkSpanIds leaves out the SDK's links for the span's own inputs and for set_upstream names
-- (mltrace.link.pointer naming one of Inputs, mltrace.link.upstream): the rule (SPEC 3.3)
-- derives those from Inputs and Upstream, and a link made when the run ended names the
-- producer its process knew, which a run logged later by another process may supersede.
-- Links for inputs that continuation spans carry stay: the run's row does not list them.
-- Continuation spans (docs/conventions.md) are not runs: 16_mltrace_io_parts_mv indexes them.
CREATE MATERIALIZED VIEW IF NOT EXISTS mltrace_runs_mv TO mltrace_runs AS
WITH
    JSONExtract(SpanAttributes['{{RUN_INPUTS}}'], 'Array(String)') AS inputs,
    JSONExtract(SpanAttributes['{{RUN_OUTPUTS}}'], 'Array(String)') AS outputs
SELECT
    SpanId,
    TraceId,
    SpanAttributes['{{COMPONENT_NAME}}'] AS Component,
    ServiceName,
    Timestamp AS StartTime,
    Timestamp + toIntervalNanosecond(Duration) AS EndTime,
    StatusCode,
    StatusMessage,
    inputs AS Inputs,
    arrayResize(JSONExtract(SpanAttributes['{{RUN_INPUT_VERSIONS}}'], 'Array(String)'), length(inputs), '') AS InputVersions,
    arrayResize(JSONExtract(SpanAttributes['{{RUN_INPUT_TYPES}}'], 'Array(String)'), length(inputs), 'UNKNOWN') AS InputTypes,
    outputs AS Outputs,
    arrayResize(JSONExtract(SpanAttributes['{{RUN_OUTPUT_VERSIONS}}'], 'Array(String)'), length(outputs), '') AS OutputVersions,
    arrayResize(JSONExtract(SpanAttributes['{{RUN_OUTPUT_TYPES}}'], 'Array(String)'), length(outputs), 'UNKNOWN') AS OutputTypes,
    JSONExtract(SpanAttributes['{{RUN_UPSTREAM}}'], 'Array(String)') AS Upstream,
    arrayFilter((id, attributes) -> NOT has(inputs, attributes['{{LINK_POINTER}}'])
        AND attributes['{{LINK_UPSTREAM}}'] = '', `Links.SpanId`, `Links.Attributes`)
        AS LinkSpanIds,
    mapFilter((key, value) -> key NOT IN ('{{COMPONENT_NAME}}', '{{RUN_INPUTS}}',
        '{{RUN_INPUT_VERSIONS}}', '{{RUN_INPUT_TYPES}}', '{{RUN_OUTPUTS}}', '{{RUN_OUTPUT_VERSIONS}}',
        '{{RUN_OUTPUT_TYPES}}', '{{RUN_UPSTREAM}}'), SpanAttributes) AS Attributes,
    `Events.Timestamp` AS EventTimestamps,
    `Events.Name` AS EventNames,
    `Events.Attributes` AS EventAttributes,
    now64(9) + toIntervalNanosecond(rowNumberInBlock()) AS LoggedAt
FROM otel_traces
WHERE SpanAttributes['{{COMPONENT_NAME}}'] != ''
  AND SpanAttributes['{{COMPONENT_DEFINITION}}'] != 'true'
  AND SpanAttributes['{{CONTINUATION}}'] != 'true'
