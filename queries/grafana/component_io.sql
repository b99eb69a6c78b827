-- Component: what the runs of component (variable "component") in the time range read and wrote, one
-- row per pointer and direction: pointer type, versions seen, runs, first and last use.
SELECT
    toString(Direction) AS direction,
    Pointer AS pointer,
    any(PointerType) AS type,
    uniqExact(SpanId) AS runs,
    arrayStringConcat(arrayFilter(version -> version != '', groupUniqArray(Version)), ', ') AS versions,
    min(StartTime) AS first_used,
    max(StartTime) AS last_used
FROM mltrace_io
WHERE Component = decodeURLComponent('${component:percentencode}') AND $__timeFilter(StartTime)
GROUP BY direction, pointer
ORDER BY direction, last_used DESC, pointer
LIMIT 1000
