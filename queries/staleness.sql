-- Staleness (SPEC 3.4) of (run, dependency) pairs, given as JSONCompactEachRow lines in
-- {pairs} (position, run id, run start, run threshold in seconds, dependency id, dependency
-- component, dependency start; starts in microseconds since the epoch, the precision of a
-- run's timestamps); one row of messages per stale pair, in pair order.
-- Rule 1: the dependency started more than the threshold before the run.
-- Rule 2: the dependency's component has runs that began after the dependency and before
-- the run. The runs of {components} in [lower_us, upper_us] (a primary-key range of
-- mltrace_run_starts per component) are ranked: Upto counts the component's runs there that
-- started no later than StartUs, so two ASOF lookups per pair give the count.
WITH
    pairs AS (
        SELECT *
        FROM format(
            JSONCompactEachRow,
            'position UInt32, RunId String, RunStart Int64, ThresholdSeconds Int64,
             DepId String, DepComponent String, DepStart Int64',
            {pairs:String}
        )
    ),
    points AS (
        SELECT Component, toUnixTimestamp64Micro(StartTime) AS StartUs, uniqExact(SpanId) AS Runs
        FROM mltrace_run_starts
        WHERE Component IN {components:Array(String)}
          AND StartTime >= fromUnixTimestamp64Micro({lower_us:Int64}, 'UTC')
          AND StartTime < fromUnixTimestamp64Micro({upper_us:Int64} + 1, 'UTC')
        GROUP BY Component, StartUs
    ),
    ranked AS (
        SELECT Component, point.1 AS StartUs, point.2 AS Upto
        FROM (
            SELECT Component, arraySort(groupArray((StartUs, Runs))) AS sorted
            FROM points
            GROUP BY Component
        )
        ARRAY JOIN arrayZip(
            arrayMap(item -> item.1, sorted), arrayCumSum(arrayMap(item -> item.2, sorted))
        ) AS point
    ),
    judged AS (
        SELECT
            position, RunId, DepId, DepComponent,
            intDiv(RunStart - DepStart, 86400000000) AS Days,
            RunStart - DepStart > ThresholdSeconds * 1000000 AS TooOld,
            greatest(toInt64(before_run.Upto) - toInt64(through_dep.Upto), 0) AS Fresher
        FROM pairs
        ASOF LEFT JOIN ranked AS before_run
            ON before_run.Component = pairs.DepComponent AND before_run.StartUs < pairs.RunStart
        ASOF LEFT JOIN ranked AS through_dep
            ON through_dep.Component = pairs.DepComponent
           AND through_dep.StartUs <= pairs.DepStart
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
