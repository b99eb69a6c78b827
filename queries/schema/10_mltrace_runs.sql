-- One row per component run, keyed by span id: the run lookups behind inspect, trace and history.
-- Plain MergeTree: a batch ingested twice leaves duplicate rows, which the queries collapse
-- (LIMIT 1 BY SpanId); ReplacingMergeTree would double the insert cost.
-- A span is a component run when it carries {{COMPONENT_NAME}} and is not a component definition.
-- The minmax index on LoggedAt lets the lineage index read only rows logged since its last
-- refresh (queries/index_*.sql) without scanning the whole column.
-- Attributes holds the span attributes that have no column here (git, owner, threshold, ...):
-- pointers, types, versions and upstream are stored once, in their columns.
-- Parts are compact while small (each spool insert) and wide once merges pass 10 MB
-- (ClickHouse's default, stated so migrations set it): a lookup of 10^4 random runs reads
-- only the columns it asks for, half the time of compact parts at 10^6 runs.
-- Granules of 128 rows, compressed in blocks from 4 KB: a lookup by span id decompresses, for
-- each run, a granule of SpanId (~2 KB) and of Record (~45 KB) instead of 64 KB blocks holding
-- 256-row granules: 10^4 random runs of 10^7 read in 0.69-0.73 s instead of 1.08-1.31 s (on
-- two-column copies, 2026-12-06). 64-row granules read in 0.50-0.67 s but cost ingest a third
-- more for this table (0.94 s against 0.60 s to write 10^5 rows), 128 a fifth (0.71 s); the
-- blocks cost nothing measurable. The primary index grows to ~80,000 marks at 10^7 runs.
-- index_granularity is fixed when a table is created: a store made with another is migrated
-- by rebuilding the derived tables.
-- Record holds what a Run is built from as one JSON array (mltrace_otel/store/records.py names
-- its fields): a row in JSONCompactEachRow, positional by definition (toJSONString of a
-- tuple gives an object when its elements are named, as a tuple of columns is in a query
-- under enable_named_columns_in_function_tuple), 64-bit numbers as strings (JSON quotes them
-- or not by session setting). A lookup of runs scattered over the table reads a granule of every
-- column it names for each run, so reading runs by id through the record (queries/runs.sql)
-- reads two columns instead of seventeen (10^4 runs of 10^7: 1.0 s against 3.0 s). It is
-- computed as rows are written (MATERIALIZED: views and rebuilds fill the other columns;
-- SELECT * leaves it out), and for parts written before it existed, when read, until a
-- merge or MATERIALIZE COLUMN stores it.
CREATE TABLE IF NOT EXISTS mltrace_runs (
    SpanId String,
    TraceId String,
    Component LowCardinality(String),
    ServiceName LowCardinality(String),
    StartTime DateTime64(9, 'UTC'),
    EndTime DateTime64(9, 'UTC'),
    StatusCode LowCardinality(String),
    StatusMessage String,
    Inputs Array(String),
    InputVersions Array(String),
    InputTypes Array(LowCardinality(String)),
    Outputs Array(String),
    OutputVersions Array(String),
    OutputTypes Array(LowCardinality(String)),
    Upstream Array(String),
    LinkSpanIds Array(String),
    Attributes Map(LowCardinality(String), String),
    EventTimestamps Array(DateTime64(9, 'UTC')),
    EventNames Array(LowCardinality(String)),
    EventAttributes Array(Map(LowCardinality(String), String)),
    LoggedAt DateTime64(9, 'UTC'),
    Record String MATERIALIZED formatRowNoNewline('JSONCompactEachRow',
        TraceId, Component, ServiceName, StatusCode, StatusMessage,
        Inputs, InputVersions, InputTypes, Outputs, OutputVersions, OutputTypes,
        Attributes, EventNames, EventAttributes,
        toString(toUnixTimestamp64Nano(StartTime)), toString(toUnixTimestamp64Nano(EndTime)),
        arrayMap(name -> toString(reinterpretAsUInt64(substring(MD5(name), 1, 8))), Outputs)),
    INDEX logged_at LoggedAt TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
ORDER BY SpanId
SETTINGS index_granularity = 128, min_compress_block_size = 4096,
    min_bytes_for_wide_part = 10485760, min_rows_for_wide_part = 0
