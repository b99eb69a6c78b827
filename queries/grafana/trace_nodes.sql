-- Trace dashboard, Node Graph nodes: the runs in the lineage of output (variable "output_id")
-- (the runs of trace_lineage.sql): component, status, staleness.
-- Dependencies follow SPEC 3.3 (latest producer of each input that started no later than the
-- reader, at the reader's version when it names one; ties by later end, then later logged;
-- set_upstream components; span links). The recursion keeps, per level, one row per run with
-- its smallest depth-first path (sibling ranks, newest first) and every consumer that reached
-- it; the smallest path over all levels is the walk's first visit. Depth is bounded at 100.
WITH RECURSIVE
    lineage AS (
        SELECT argMax(SpanId, (StartTime, EndTime, LoggedAt, SpanId)) AS Run,
               CAST([], 'Array(String)') AS Parents, toUInt32(0) AS Level,
               CAST([], 'Array(UInt32)') AS Path
        FROM mltrace_io
        WHERE Direction = 'output' AND Pointer = decodeURLComponent('${output_id:percentencode}')
        HAVING count() > 0
        UNION ALL
        SELECT Run, groupUniqArray(Consumer) AS Parents, NextLevel AS Level,
               min(ChildPath) AS Path
        FROM (
            SELECT choice.2 AS Run, Consumer, Level + 1 AS NextLevel,
                   arrayPushBack(Path, toUInt32(rank)) AS ChildPath
            FROM (
            SELECT Consumer, Level, Path, arrayReverseSort(groupUniqArray((Start, Dep))) AS sorted
            FROM (
                SELECT wanted.Consumer AS Consumer, wanted.Level AS Level, wanted.Path AS Path,
                       argMax((toUnixTimestamp64Micro(candidate.StartTime), candidate.SpanId),
                              (candidate.StartTime, candidate.EndTime, candidate.Logged,
                               candidate.SpanId)) AS chosen,
                       chosen.1 AS Start, chosen.2 AS Dep
                FROM (
                    SELECT frontier.Run AS Consumer, frontier.Level AS Level,
                           frontier.Path AS Path, run.StartTime AS StartTime,
                           item.1 AS Kind, item.2 AS Key, item.3 AS Version
                    FROM (SELECT Run, Level, Path FROM lineage WHERE Level < 100) AS frontier
                    INNER JOIN (
                        SELECT SpanId, StartTime, Inputs, InputVersions, Upstream, LinkSpanIds
                        FROM mltrace_runs LIMIT 1 BY SpanId
                    ) AS run ON run.SpanId = frontier.Run
                    ARRAY JOIN arrayConcat(
                        arrayMap((p, v) -> ('input', p, v), run.Inputs, run.InputVersions),
                        arrayMap(c -> ('upstream', c, ''), run.Upstream),
                        arrayMap(l -> ('link', l, ''), run.LinkSpanIds)
                    ) AS item
                ) AS wanted
                INNER JOIN (
                    SELECT 'input' AS Kind, Pointer AS Key, Version, SpanId, StartTime, EndTime,
                           LoggedAt AS Logged
                    FROM mltrace_io WHERE Direction = 'output'
                    UNION ALL
                    SELECT 'upstream', Component, '', SpanId, StartTime, EndTime,
                           toDateTime64(0, 9, 'UTC')
                    FROM mltrace_runs
                    UNION ALL
                    SELECT 'link', SpanId, '', SpanId, StartTime, EndTime, LoggedAt
                    FROM mltrace_runs
                ) AS candidate ON candidate.Kind = wanted.Kind AND candidate.Key = wanted.Key
                WHERE candidate.SpanId != wanted.Consumer
                  AND (wanted.Kind = 'link' OR candidate.StartTime <= wanted.StartTime)
                  AND (wanted.Kind != 'input' OR wanted.Version = ''
                       OR candidate.Version = wanted.Version)
                GROUP BY Consumer, Level, Path, wanted.Kind, wanted.Key, wanted.Version
            )
            GROUP BY Consumer, Level, Path
        )
            ARRAY JOIN sorted AS choice, arrayEnumerate(sorted) AS rank
        )
        GROUP BY Run, NextLevel
    ),
    visited AS (
        SELECT Run, argMin(Level, Path) AS FirstLevel, min(Path) AS FirstPath
        FROM lineage
        GROUP BY Run
    ),
    subjects AS (SELECT Run AS SpanId FROM visited),
    -- Staleness (SPEC 3.4) of the runs in `subjects`, computed as `run.stale` is: each run's
    -- dependencies (SPEC 3.3) in dependency order; rule 1, the dependency started more than
    -- the run's staleness threshold (default 30 days) before it; rule 2, the dependency's
    -- component has runs that began after the dependency and before the run.
    subject_runs AS (
        SELECT SpanId, StartTime,
               if(toInt64OrZero(Attributes['{{RUN_STALENESS_THRESHOLD}}']) = 0, 2592000,
                  toInt64OrZero(Attributes['{{RUN_STALENESS_THRESHOLD}}'])) AS Threshold,
               arrayConcat(
                   arrayMap((p, v) -> ('input', p, v), Inputs, InputVersions),
                   arrayMap(c -> ('upstream', c, ''), Upstream),
                   arrayMap(l -> ('link', l, ''), LinkSpanIds)
               ) AS Items
        FROM mltrace_runs
        WHERE SpanId IN (SELECT SpanId FROM subjects)
        LIMIT 1 BY SpanId
    ),
    dependencies AS (
        SELECT Consumer, Dep, min(Position) AS Position
        FROM (
            SELECT wanted.Consumer AS Consumer, wanted.Position AS Position,
                   argMax(candidate.SpanId, (candidate.StartTime, candidate.EndTime,
                                             candidate.Logged, candidate.SpanId)) AS Dep
            FROM (
                SELECT SpanId AS Consumer, StartTime, item.1 AS Kind, item.2 AS Key,
                       item.3 AS Version, position AS Position
                FROM subject_runs
                ARRAY JOIN Items AS item, arrayEnumerate(Items) AS position
            ) AS wanted
            INNER JOIN (
                SELECT 'input' AS Kind, Pointer AS Key, Version, SpanId, StartTime, EndTime,
                       LoggedAt AS Logged
                FROM mltrace_io WHERE Direction = 'output'
                UNION ALL
                SELECT 'upstream', Component, '', SpanId, StartTime, EndTime,
                       toDateTime64(0, 9, 'UTC')
                FROM mltrace_runs
                UNION ALL
                SELECT 'link', SpanId, '', SpanId, StartTime, EndTime, LoggedAt
                FROM mltrace_runs
            ) AS candidate ON candidate.Kind = wanted.Kind AND candidate.Key = wanted.Key
            WHERE candidate.SpanId != wanted.Consumer
              AND (wanted.Kind = 'link' OR candidate.StartTime <= wanted.StartTime)
              AND (wanted.Kind != 'input' OR wanted.Version = ''
                   OR candidate.Version = wanted.Version)
            GROUP BY wanted.Consumer, wanted.Position
        )
        GROUP BY Consumer, Dep
    ),
    judged AS (
        SELECT pair.RunId AS RunId, pair.Position AS Position, pair.DepId AS DepId,
               pair.DepComponent AS DepComponent, pair.RunUs - pair.DepUs > pair.Threshold * 1000000 AS TooOld,
               intDiv(pair.RunUs - pair.DepUs, 86400000000) AS Days,
               uniqExactIf(fresher.SpanId,
                           toUnixTimestamp64Micro(fresher.StartTime) > pair.DepUs
                           AND toUnixTimestamp64Micro(fresher.StartTime) < pair.RunUs) AS Fresher
        FROM (
            SELECT dependencies.Consumer AS RunId, dependencies.Dep AS DepId,
                   dependencies.Position AS Position, subject.Threshold AS Threshold,
                   toUnixTimestamp64Micro(subject.StartTime) AS RunUs,
                   dep.Component AS DepComponent, toUnixTimestamp64Micro(dep.StartTime) AS DepUs
            FROM dependencies
            INNER JOIN subject_runs AS subject ON subject.SpanId = dependencies.Consumer
            INNER JOIN (
                SELECT SpanId, Component, StartTime FROM mltrace_runs LIMIT 1 BY SpanId
            ) AS dep ON dep.SpanId = dependencies.Dep
        ) AS pair
        LEFT JOIN mltrace_run_starts AS fresher ON fresher.Component = pair.DepComponent
        GROUP BY RunId, Position, DepId, DepComponent, TooOld, Days
    ),
    staleness AS (
        SELECT RunId, arrayFlatten(arrayMap(item -> item.2, arraySort(item -> item.1, groupArray((
                   Position,
                   arrayFilter(message -> message != '', [
                       if(TooOld, format('{} (ID {}) was run {} days ago.',
                                         DepComponent, DepId, toString(Days)), ''),
                       if(Fresher > 0,
                          format('{} (ID {}) has {} fresher run{} that began before this component run started.',
                                 DepComponent, DepId, toString(Fresher), if(Fresher > 1, 's', '')),
                          '')
                   ])
               ))))) AS Messages
        FROM judged
        GROUP BY RunId
    )
SELECT
    run.SpanId AS id,
    run.Component AS title,
    run.SpanId AS subtitle,
    multiIf(run.StatusCode = 'Ok', 'OK', run.StatusCode = 'Error', 'ERROR', 'UNSET') AS mainstat,
    if(length(staleness.Messages) > 0, 'stale', 'fresh') AS secondarystat,
    toFloat64(run.StatusCode = 'Ok') AS arc__ok,
    toFloat64(run.StatusCode = 'Error') AS arc__error,
    toFloat64(run.StatusCode NOT IN ('Ok', 'Error')) AS arc__unset,
    visited.FirstLevel AS detail__level,
    toString(run.StartTime) AS detail__start,
    run.Attributes['{{VCS_REF_HEAD_REVISION}}'] AS detail__git,
    arrayStringConcat(staleness.Messages, ' ') AS detail__stale,
    length(staleness.Messages) > 0 AS highlighted
FROM visited
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = visited.Run
LEFT JOIN staleness ON staleness.RunId = visited.Run
ORDER BY visited.FirstPath
