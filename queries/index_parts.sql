-- The active parts of the tables the lineage index loads from: when none was added, merged,
-- mutated or dropped since the last refresh, no row was either, and the index skips the scan
-- of LoggedAt that finds new rows (queries/index_watermark.sql).
SELECT table, name, rows, bytes_on_disk, toUnixTimestamp(modification_time) AS modified
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN ('mltrace_runs', 'mltrace_io')
ORDER BY table, name
