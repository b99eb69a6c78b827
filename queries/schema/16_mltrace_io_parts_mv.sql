-- Pointers of runs that did not fit in the run span, carried by its continuation spans
-- (children marked {{CONTINUATION}}, docs/conventions.md): indexed under the run's span id
-- (the continuation's parent), with the run's start and end. RunLinks holds the run's own id:
-- the row does not carry the run's inputs, so a lineage walk reads them from mltrace_runs.
-- The inner SELECT keeps only continuation spans before any attribute is decoded: most
-- inserts have none, and the view then costs one attribute lookup per span.
CREATE MATERIALIZED VIEW IF NOT EXISTS mltrace_io_parts_mv TO mltrace_io AS
WITH
    JSONExtract(SpanAttributes['{{RUN_INPUTS}}'], 'Array(String)') AS inputs,
    JSONExtract(SpanAttributes['{{RUN_OUTPUTS}}'], 'Array(String)') AS outputs
SELECT
    io.1 AS Pointer,
    io.2 AS Direction,
    io.3 AS Version,
    io.4 AS PointerType,
    ParentSpanId AS SpanId,
    SpanAttributes['{{COMPONENT_NAME}}'] AS Component,
    Timestamp AS StartTime,
    Timestamp + toIntervalNanosecond(Duration) AS EndTime,
    now64(9) + toIntervalNanosecond(rowNumberInBlock()) AS LoggedAt,
    CAST([], 'Array(String)') AS RunInputs,
    CAST([], 'Array(String)') AS RunInputVersions,
    CAST([], 'Array(String)') AS RunUpstream,
    [ParentSpanId] AS RunLinks,
    true AS RunContinued
FROM (
    SELECT ParentSpanId, SpanAttributes, Timestamp, Duration
    FROM otel_traces
    WHERE SpanAttributes['{{CONTINUATION}}'] = 'true'
)
ARRAY JOIN arrayConcat(
    arrayMap((p, v, t) -> (p, 'input', v, t), inputs,
        arrayResize(JSONExtract(SpanAttributes['{{RUN_INPUT_VERSIONS}}'], 'Array(String)'), length(inputs), ''),
        arrayResize(JSONExtract(SpanAttributes['{{RUN_INPUT_TYPES}}'], 'Array(String)'), length(inputs), 'UNKNOWN')),
    arrayMap((p, v, t) -> (p, 'output', v, t), outputs,
        arrayResize(JSONExtract(SpanAttributes['{{RUN_OUTPUT_VERSIONS}}'], 'Array(String)'), length(outputs), ''),
        arrayResize(JSONExtract(SpanAttributes['{{RUN_OUTPUT_TYPES}}'], 'Array(String)'), length(outputs), 'UNKNOWN'))
) AS io
