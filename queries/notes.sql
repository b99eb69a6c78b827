-- Notes added to the given runs, oldest first.
SELECT SpanId, groupArray(Notes) AS Notes
FROM (
    SELECT SpanId, Notes
    FROM mltrace_notes
    WHERE SpanId IN {ids:Array(String)}
    ORDER BY SpanId, Time
)
GROUP BY SpanId
