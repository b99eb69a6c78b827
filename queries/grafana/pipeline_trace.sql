-- The pipeline trace of a run, for the plugin's trace view (query format Trace): every span
-- of the clicked trace id with the column names the plugin's README gives for the
-- OpenTelemetry Collector's otel_traces table (duration in milliseconds).
SELECT
    TraceId AS traceID,
    SpanId AS spanID,
    SpanName AS operationName,
    ParentSpanId AS parentSpanID,
    ServiceName AS serviceName,
    Duration / 1000000 AS duration,
    Timestamp AS startTime,
    arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
    arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags
FROM otel_traces
WHERE TraceId = decodeURLComponent('${__value.raw:percentencode}')
ORDER BY startTime ASC
