-- Fragment (a `{{> grafana/_impact_walk}}` line; see mltrace_otel/store/sql.py): the
-- recursive walk of the Impact dashboard downstream of pointer (variable "pointer"), with
-- its own comment for the panel's SQL. It is a whole WITH list: `impact` (Run, Parents,
-- Level, Path), `visited` (Run, FirstLevel, FirstPath) and `finals` (Run, Name, Position:
-- the final outputs of the reached runs).
-- Included by impact_edges.sql, impact_nodes.sql and impact_runs.sql.

-- Runs downstream of pointer (variable "pointer") (`mltrace impact`, docs/review.md): level 0 is every
-- run that read it, whichever run wrote it; then each run C whose dependency (SPEC 3.3:
-- latest producer of an input that started no later than C, at C's version; set_upstream;
-- span links) is a run already reached, depth-first, earliest first, each run once at the
-- level where that walk meets it first (smallest path of sibling ranks), at most 100 levels.
-- A final output is an output of a reached run that no other run starting no earlier read.
WITH RECURSIVE
    impact AS (
        SELECT Run, CAST([], 'Array(String)') AS Parents, toUInt32(0) AS Level,
               [toUInt32(rank)] AS Path
        FROM (
            SELECT arraySort(groupUniqArray((toUnixTimestamp64Micro(StartTime), SpanId))) AS sorted
            FROM mltrace_io
            WHERE Direction = 'input' AND Pointer = decodeURLComponent('${pointer:percentencode}')
        )
        ARRAY JOIN arrayMap(item -> item.2, sorted) AS Run, arrayEnumerate(sorted) AS rank
        UNION ALL
        SELECT Run, groupUniqArray(Producer) AS Parents, NextLevel AS Level,
               min(ChildPath) AS Path
        FROM (
            SELECT choice.2 AS Run, Producer, Level + 1 AS NextLevel,
                   arrayPushBack(Path, toUInt32(rank)) AS ChildPath
            FROM (
                SELECT Producer, Level, Path, arraySort(groupUniqArray((Start, Consumer))) AS sorted
                FROM (
                    SELECT pair.Producer AS Producer, pair.Level AS Level, pair.Path AS Path,
                           pair.Consumer AS Consumer,
                           toUnixTimestamp64Micro(pair.ConsumerStart) AS Start,
                           argMax(candidate.SpanId, (candidate.StartTime, candidate.EndTime,
                                                     candidate.Logged, candidate.SpanId)) AS Chosen
                    FROM (
                        SELECT offer.Producer AS Producer, offer.Level AS Level,
                               offer.Path AS Path, reader.SpanId AS Consumer,
                               reader.StartTime AS ConsumerStart, reader.Kind AS Kind,
                               reader.Key AS Key, reader.Version AS Version
                        FROM (
                            SELECT frontier.Run AS Producer, frontier.Level AS Level,
                                   frontier.Path AS Path, item.1 AS Kind, item.2 AS Key
                            FROM (SELECT Run, Level, Path FROM impact WHERE Level < 100) AS frontier
                            INNER JOIN (
                                SELECT SpanId, Component, Outputs FROM mltrace_runs LIMIT 1 BY SpanId
                            ) AS run ON run.SpanId = frontier.Run
                            ARRAY JOIN arrayConcat(
                                arrayMap(o -> ('input', o), run.Outputs),
                                [('upstream', run.Component), ('link', run.SpanId)]
                            ) AS item
                        ) AS offer
                        INNER JOIN (
                            SELECT SpanId, StartTime, item.1 AS Kind, item.2 AS Key,
                                   item.3 AS Version
                            FROM (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId)
                            ARRAY JOIN arrayConcat(
                                arrayMap((p, v) -> ('input', p, v), Inputs, InputVersions),
                                arrayMap(c -> ('upstream', c, ''), Upstream),
                                arrayMap(l -> ('link', l, ''), LinkSpanIds)
                            ) AS item
                        ) AS reader ON reader.Kind = offer.Kind AND reader.Key = offer.Key
                        WHERE reader.SpanId != offer.Producer
                    ) AS pair
                    INNER JOIN mltrace_producer_candidates AS candidate ON candidate.Kind = pair.Kind AND candidate.Key = pair.Key
                    WHERE candidate.SpanId != pair.Consumer
                      AND (pair.Kind = 'link' OR candidate.StartTime <= pair.ConsumerStart)
                      AND (pair.Kind != 'input' OR pair.Version = ''
                           OR candidate.Version = pair.Version)
                    GROUP BY Producer, Level, Path, Consumer, Start, pair.Kind, pair.Key,
                             pair.Version
                )
                WHERE Chosen = Producer
                GROUP BY Producer, Level, Path
            )
            ARRAY JOIN sorted AS choice, arrayEnumerate(sorted) AS rank
        )
        GROUP BY Run, NextLevel
    ),
    visited AS (
        SELECT Run, argMin(Level, Path) AS FirstLevel, min(Path) AS FirstPath
        FROM impact
        GROUP BY Run
    ),
    finals AS (
        SELECT output.SpanId AS Run, output.Pointer AS Name, min(output.position) AS Position
        FROM (
            SELECT run.SpanId AS SpanId, run.StartTime AS StartTime, name AS Pointer, position
            FROM (SELECT * FROM mltrace_runs WHERE SpanId IN (SELECT Run FROM visited)
                  LIMIT 1 BY SpanId) AS run
            ARRAY JOIN run.Outputs AS name, arrayEnumerate(run.Outputs) AS position
        ) AS output
        LEFT JOIN (
            SELECT Pointer, SpanId, StartTime FROM mltrace_io WHERE Direction = 'input'
        ) AS reader ON reader.Pointer = output.Pointer
        GROUP BY Run, Name, output.StartTime
        HAVING countIf(reader.SpanId != '' AND reader.SpanId != Run
                       AND reader.StartTime >= output.StartTime) = 0
    )
