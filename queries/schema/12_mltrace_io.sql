-- Pointer index: one row per (pointer, direction, run), ordered by pointer so the producers of
-- a pointer are a primary-key range. Each row also carries the run's own inputs, upstream
-- components and links, so a lineage walk learns the next level's pointers from the same
-- read (one query per level, no join).
-- The minmax index on LoggedAt lets the lineage index read only rows logged since its last
-- refresh (queries/index_*.sql) without scanning the whole column.
-- RunContinued: continuation spans carry more of the run's pointers (docs/conventions.md), so
-- RunInputs is not all it read and a walk reads the run by id. The DEFAULT serves rows
-- stored before the column existed: a continuation span's row links to its own run.
-- Parts are compact while small, wide past 10 MB, as for mltrace_runs.
CREATE TABLE IF NOT EXISTS mltrace_io (
    Pointer String,
    Direction Enum8('input' = 1, 'output' = 2),
    Version String,
    PointerType LowCardinality(String),
    SpanId String,
    Component LowCardinality(String),
    StartTime DateTime64(9, 'UTC'),
    EndTime DateTime64(9, 'UTC'),
    LoggedAt DateTime64(9, 'UTC'),
    RunInputs Array(String),
    RunInputVersions Array(String),
    RunUpstream Array(String),
    RunLinks Array(String),
    RunContinued Bool DEFAULT has(RunLinks, SpanId),
    INDEX logged_at LoggedAt TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
ORDER BY (Pointer, Direction, StartTime)
SETTINGS index_granularity = 256, min_bytes_for_wide_part = 10485760, min_rows_for_wide_part = 0
