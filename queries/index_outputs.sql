-- Output rows of the pointer index logged in (after_ns, until_ns], keyed for the in-memory
-- lineage index (pointer and version: first 8 bytes of MD5; run: the 64-bit span id); rows of
-- continuation spans too, under the run's id.
SELECT
    reinterpretAsUInt64(substring(MD5(Pointer), 1, 8)) AS PointerKey,
    if(Version = '', 0, reinterpretAsUInt64(substring(MD5(Version), 1, 8))) AS VersionKey,
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    toUnixTimestamp64Nano(EndTime) AS EndNs,
    toUnixTimestamp64Nano(LoggedAt) AS LoggedNs
FROM mltrace_io
WHERE Direction = 'output'
  AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
