CREATE MATERIALIZED VIEW IF NOT EXISTS mltrace_io_mv TO mltrace_io AS
SELECT
    io.1 AS Pointer,
    io.2 AS Direction,
    io.3 AS Version,
    io.4 AS PointerType,
    SpanId,
    Component,
    StartTime,
    EndTime,
    LoggedAt,
    Inputs AS RunInputs,
    InputVersions AS RunInputVersions,
    Upstream AS RunUpstream,
    LinkSpanIds AS RunLinks,
    mapContains(Attributes, '{{RUN_CONTINUATION_SPANS}}') AS RunContinued
FROM mltrace_runs
ARRAY JOIN arrayConcat(
    arrayMap((p, v, t) -> (p, 'input', v, t), Inputs, InputVersions, InputTypes),
    arrayMap((p, v, t) -> (p, 'output', v, t), Outputs, OutputVersions, OutputTypes)
) AS io
