-- Fragment (a `{{> grafana/_staleness}}` line; see mltrace_otel/store/sql.py): the SPEC 3.4
-- staleness of the runs of a CTE `subjects` (SpanId) defined before it in the WITH list.
-- It defines `subject_runs`, `dependencies`, `judged` and `staleness` (RunId, Messages: the
-- messages of `run.stale`, in dependency order) and ends the WITH list.
-- Included by overview_latest_runs.sql, staleness_per_component.sql, staleness_runs.sql,
-- trace_lineage.sql and trace_nodes.sql.

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
            INNER JOIN mltrace_producer_candidates AS candidate ON candidate.Kind = wanted.Kind AND candidate.Key = wanted.Key
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
