-- Staleness (SPEC 3.4) of (run, dependency) pairs, given as arrays of one element per pair:
-- run ids, run starts, run thresholds in seconds, dependency ids, dependency components,
-- dependency starts (starts in microseconds since the epoch, the precision of a run's
-- timestamps); one row of messages per stale pair, in pair order. Arrays, not a table
-- function over text: a read-only user (readonly=1) may run it.
-- Rule 1: the dependency started more than the threshold before the run.
-- Rule 2: the dependency's component has runs that began after the dependency and before
-- the run. The runs of {components} in [lower_us, upper_us] (a primary-key range of
-- mltrace_run_starts per component) are counted per start time and sorted per component
-- with two probes of each pair: the run's start, ordered before runs that began at the same
-- time (they are not before the run), and the dependency's start, ordered after them (they
-- are not after it). A running sum gives each probe the runs up to it, and the pair's count
-- is the difference: one sort, however many pairs (two ASOF joins cost 1.3-1.9x as much).
WITH
    pairs AS (
        SELECT toUInt32(pair.1) AS position, pair.2 AS RunId, pair.3 AS RunStart,
               pair.4 AS ThresholdSeconds, pair.5 AS DepId, pair.6 AS DepComponent,
               pair.7 AS DepStart
        FROM system.one
        ARRAY JOIN arrayZip(
            range(length({run_ids:Array(String)})), {run_ids:Array(String)},
            {run_starts:Array(Int64)}, {thresholds:Array(Int64)}, {dep_ids:Array(String)},
            {dep_components:Array(String)}, {dep_starts:Array(Int64)}
        ) AS pair
    ),
    points AS (
        SELECT Component, toUnixTimestamp64Micro(StartTime) AS StartUs, 1 AS Order,
               toInt64(uniqExact(SpanId)) AS Runs, toUInt32(0) AS position
        FROM mltrace_run_starts
        WHERE Component IN {components:Array(String)}
          AND StartTime >= fromUnixTimestamp64Micro({lower_us:Int64}, 'UTC')
          AND StartTime < fromUnixTimestamp64Micro({upper_us:Int64} + 1, 'UTC')
        GROUP BY Component, StartUs
    ),
    probes AS (
        SELECT Component, StartUs, Order, Runs, position FROM points
        UNION ALL
        SELECT DepComponent, RunStart, 0, 0, position FROM pairs
        UNION ALL
        SELECT DepComponent, DepStart, 2, 0, position FROM pairs
    ),
    counted AS (
        SELECT position, Order,
               sum(Runs) OVER (PARTITION BY Component ORDER BY StartUs, Order
                               ROWS UNBOUNDED PRECEDING) AS Upto
        FROM probes
    ),
    fresher AS (
        SELECT position, greatest(sumIf(Upto, Order = 0) - sumIf(Upto, Order = 2), 0) AS Fresher
        FROM counted
        WHERE Order != 1
        GROUP BY position
    ),
    judged AS (
        SELECT
            position, RunId, DepId, DepComponent,
            intDiv(RunStart - DepStart, 86400000000) AS Days,
            RunStart - DepStart > ThresholdSeconds * 1000000 AS TooOld,
            Fresher
        FROM pairs
        LEFT JOIN fresher USING position
    )
SELECT
    RunId,
    arrayFilter(message -> message != '', [
        if(TooOld, format('{} (ID {}) was run {} days ago.', DepComponent, DepId, toString(Days)), ''),
        if(Fresher > 0,
           format('{} (ID {}) has {} fresher run{} that began before this component run started.',
                  DepComponent, DepId, toString(Fresher), if(Fresher > 1, 's', '')),
           '')
    ]) AS Messages
FROM judged
WHERE TooOld OR Fresher > 0
ORDER BY position
