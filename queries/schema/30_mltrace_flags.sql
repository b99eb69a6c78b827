-- Flagged outputs (flag_output_id / unflag_output_id / unflag_all): one row per flag or
-- unflag; the latest write of an output id wins (argMax by Version in queries/flagged.sql,
-- and background merges keep only that row).
CREATE TABLE IF NOT EXISTS mltrace_flags (
    OutputId String,
    Flagged UInt8,
    Version DateTime64(9, 'UTC') DEFAULT now64(9)
) ENGINE = ReplacingMergeTree(Version)
ORDER BY OutputId
