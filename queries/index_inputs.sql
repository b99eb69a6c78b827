-- Inputs of the runs logged in (after_ns, until_ns], keyed like index_outputs, in each run's
-- input order (Position): the run span's own inputs, then those its continuation spans carry
-- (pointer index rows whose RunLinks hold their own run, docs/conventions.md).
SELECT
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    reinterpretAsUInt64(substring(MD5(pointer), 1, 8)) AS PointerKey,
    if(version = '', 0, reinterpretAsUInt64(substring(MD5(version), 1, 8))) AS VersionKey,
    toUInt32(position) AS Position
FROM mltrace_runs
ARRAY JOIN Inputs AS pointer, InputVersions AS version, arrayEnumerate(Inputs) AS position
WHERE LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
UNION ALL
SELECT
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    reinterpretAsUInt64(substring(MD5(Pointer), 1, 8)) AS PointerKey,
    if(Version = '', 0, reinterpretAsUInt64(substring(MD5(Version), 1, 8))) AS VersionKey,
    toUInt32(4294967295) AS Position
FROM mltrace_io
WHERE Direction = 'input'
  AND has(RunLinks, SpanId)
  AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
