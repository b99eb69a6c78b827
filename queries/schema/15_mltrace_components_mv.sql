CREATE MATERIALIZED VIEW IF NOT EXISTS mltrace_components_mv TO mltrace_components AS
SELECT
    SpanAttributes['{{COMPONENT_NAME}}'] AS Name,
    SpanAttributes['{{COMPONENT_OWNER}}'] AS Owner,
    SpanAttributes['{{COMPONENT_DESCRIPTION}}'] AS Description,
    JSONExtract(SpanAttributes['{{COMPONENT_TAGS}}'], 'Array(String)') AS Tags,
    Timestamp AS Time
FROM otel_traces
WHERE SpanAttributes['{{COMPONENT_NAME}}'] != ''
