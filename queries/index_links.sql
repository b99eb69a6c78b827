-- The runs logged in (after_ns, until_ns] with their start and span links, keyed for the in-memory
-- lineage index (run and target: the 64-bit span id): one row per link in link order
-- (Position from 1), or one row with Position 0 for a run without links. Canonical is 0
-- for a target that is not a 16-digit lower-case hex span id: the index leaves such runs to
-- the store.
SELECT
    reinterpretAsUInt64(reverse(unhex(SpanId))) AS Run,
    toUnixTimestamp64Nano(StartTime) AS StartNs,
    reinterpretAsUInt64(reverse(unhex(link))) AS Target,
    toUInt32(position) AS Position,
    toUInt8(position = 0 OR match(link, '^[0-9a-f]{16}$')) AS Canonical
FROM mltrace_runs
LEFT ARRAY JOIN LinkSpanIds AS link, arrayEnumerate(LinkSpanIds) AS position
WHERE LoggedAt > fromUnixTimestamp64Nano({after_ns:Int64}, 'UTC')
  AND LoggedAt <= fromUnixTimestamp64Nano({until_ns:Int64}, 'UTC')
