-- Input rows of the pointer index logged in (after_ns, until_ns], keyed like index_outputs,
-- with each input's place in its run's inputs (Position from 1). Rows of continuation spans
-- (docs/conventions.md) carry no run inputs: they come last (Position 2^32 - 1).
SELECT
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    reinterpretAsUInt64(substring(MD5(Pointer), 1, 8)) AS PointerKey,
    if(Version = '', 0, reinterpretAsUInt64(substring(MD5(Version), 1, 8))) AS VersionKey,
    arrayFirstIndex((name, version) -> name = Pointer AND version = Version,
                    RunInputs, RunInputVersions) AS place,
    toUInt32(if(place = 0, 4294967295, place)) AS Position
FROM mltrace_io
WHERE Direction = 'input'
  AND LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
