-- Component facts of run spans and component definition spans, one row per component and
-- distinct facts in each insert (the latest time it carried them), not one row per run:
-- queries/components.sql takes the latest non-empty owner and description and every tag, which
-- this keeps. The attributes are read once, in the inner SELECT; the tags are decoded per group.
CREATE MATERIALIZED VIEW IF NOT EXISTS mltrace_components_mv TO mltrace_components AS
SELECT
    Name,
    Owner,
    Description,
    JSONExtract(TagsJson, 'Array(String)') AS Tags,
    max(Timestamp) AS Time
FROM (
    SELECT
        SpanAttributes['{{COMPONENT_NAME}}'] AS Name,
        SpanAttributes['{{COMPONENT_OWNER}}'] AS Owner,
        SpanAttributes['{{COMPONENT_DESCRIPTION}}'] AS Description,
        SpanAttributes['{{COMPONENT_TAGS}}'] AS TagsJson,
        Timestamp
    FROM otel_traces
    WHERE Name != ''
)
GROUP BY Name, Owner, Description, TagsJson
