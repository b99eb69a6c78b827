-- Input rows of the pointer index logged in (after_ns, until_ns], keyed like index_outputs.
SELECT
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    reinterpretAsUInt64(substring(MD5(Pointer), 1, 8)) AS PointerKey,
    if(Version = '', 0, reinterpretAsUInt64(substring(MD5(Version), 1, 8))) AS VersionKey
FROM mltrace_io
WHERE Direction = 'input'
  AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
