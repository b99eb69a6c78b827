-- Runs by component and start time: staleness counts a dependency's fresher runs (SPEC 3.4,
-- rule 2) and `mltrace stale` finds each component's latest run as primary-key ranges.
-- Small granules and parts compact while small, wide past 10 MB, as for mltrace_runs: reads
-- are short ranges, often of several components.
CREATE TABLE IF NOT EXISTS mltrace_run_starts (
    Component LowCardinality(String),
    StartTime DateTime64(9, 'UTC'),
    SpanId String
) ENGINE = ReplacingMergeTree
ORDER BY (Component, StartTime, SpanId)
SETTINGS index_granularity = 256, min_bytes_for_wide_part = 10485760, min_rows_for_wide_part = 0
