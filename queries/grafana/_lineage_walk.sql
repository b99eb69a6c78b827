-- Fragment (a `{{> grafana/_lineage_walk}}` line; see mltrace_otel/store/sql.py): the
-- recursive walk of the Trace dashboard from output (variable "output_id") through its
-- dependencies (SPEC 3.3). It opens the WITH list and defines `lineage` (Run, Parents,
-- Level, Path: per level, each run reached, the consumers that reached it, its smallest
-- path of sibling ranks) and `visited` (Run, FirstLevel, FirstPath: the walk's first visit).
-- Included by trace_lineage.sql, trace_nodes.sql and trace_edges.sql.

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
                INNER JOIN mltrace_producer_candidates AS candidate ON candidate.Kind = wanted.Kind AND candidate.Key = wanted.Key
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
    )
