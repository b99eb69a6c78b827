-- Component, annotations: each run of component (variable "component") whose code snapshot hash or
-- git commit differs from the previous run's (the first run in the range included).
SELECT time, text, tags
FROM (
    SELECT
        StartTime AS time,
        Attributes['{{RUN_CODE_SNAPSHOT_HASH}}'] AS code_hash,
        Attributes['{{VCS_REF_HEAD_REVISION}}'] AS git,
        lagInFrame(code_hash, 1, '') OVER (ORDER BY StartTime, SpanId) AS previous_hash,
        lagInFrame(git, 1, '') OVER (ORDER BY StartTime, SpanId) AS previous_git,
        row_number() OVER (ORDER BY StartTime, SpanId) AS position,
        concat('code ', substring(code_hash, 1, 12), ' at git ', substring(git, 1, 12),
               ' (run ', SpanId, ')') AS text,
        ['code change'] AS tags
    FROM (
        SELECT SpanId, StartTime, Attributes FROM mltrace_runs
        WHERE Component = decodeURLComponent('${component:percentencode}')
          AND $__timeFilter(StartTime)
        LIMIT 1 BY SpanId
    )
)
WHERE position = 1 OR code_hash != previous_hash OR git != previous_git
ORDER BY time
