-- Notes added to runs after they were logged (add_notes_to_component_run, `mltrace note`).
CREATE TABLE IF NOT EXISTS mltrace_notes (
    SpanId String,
    Notes String,
    Time DateTime64(9, 'UTC') DEFAULT now64(9)
) ENGINE = MergeTree
ORDER BY (SpanId, Time)
