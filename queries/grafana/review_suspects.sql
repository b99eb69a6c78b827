-- Review: runs involved in producing the flagged outputs, with coverage and the Ochiai
-- suspiciousness score of `mltrace review` (docs/review.md):
--   score(run) = flagged(run) / sqrt(total_flagged * involved(run))
-- flagged(run): flagged outputs whose trace includes the run; involved(run): every output
-- whose lineage includes the run, flagged or a final output (one that no run starting no
-- earlier than its producer read). Each output is a seed (its producer, its name); the
-- recursion walks every seed's dependencies (SPEC 3.3) upward, at most 100 levels, and a run
-- counts the seeds that reach it. Sorted by score, then count, then most recent run.
WITH RECURSIVE
    flagged AS (
        SELECT OutputId
        FROM mltrace_flags
        GROUP BY OutputId
        HAVING argMax(Flagged, Version) = 1
    ),
    flagged_seeds AS (
        SELECT Pointer AS Name, argMax(SpanId, (StartTime, EndTime, LoggedAt, SpanId)) AS Run
        FROM mltrace_io
        WHERE Direction = 'output' AND Pointer IN (SELECT OutputId FROM flagged)
        GROUP BY Pointer
    ),
    final_seeds AS (
        SELECT output.Pointer AS Name, output.SpanId AS Run
        FROM (
            SELECT DISTINCT Pointer, SpanId, StartTime FROM mltrace_io WHERE Direction = 'output'
        ) AS output
        LEFT JOIN (
            SELECT Pointer, SpanId, StartTime FROM mltrace_io WHERE Direction = 'input'
        ) AS reader ON reader.Pointer = output.Pointer
        GROUP BY output.Pointer, output.SpanId, output.StartTime
        HAVING countIf(reader.SpanId != '' AND reader.SpanId != output.SpanId
                       AND reader.StartTime >= output.StartTime) = 0
    ),
    reach AS (
        SELECT DISTINCT Run, (Run, Name) AS Seed, toUInt32(0) AS Level,
               (Run, Name) IN (SELECT Run, Name FROM flagged_seeds) AS IsFlagged
        FROM (SELECT Name, Run FROM flagged_seeds UNION ALL SELECT Name, Run FROM final_seeds)
        UNION ALL
        SELECT DISTINCT Dep AS Run, Seed, Level + 1 AS Level, IsFlagged
        FROM (
            SELECT wanted.Seed AS Seed, wanted.IsFlagged AS IsFlagged, wanted.Level AS Level,
                   argMax(candidate.SpanId, (candidate.StartTime, candidate.EndTime,
                                             candidate.Logged, candidate.SpanId)) AS Dep
            FROM (
                SELECT frontier.Run AS Consumer, frontier.Seed AS Seed,
                       frontier.IsFlagged AS IsFlagged, frontier.Level AS Level,
                       run.StartTime AS StartTime, item.1 AS Kind, item.2 AS Key,
                       item.3 AS Version
                FROM (SELECT Run, Seed, IsFlagged, Level FROM reach WHERE Level < 100) AS frontier
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
            GROUP BY wanted.Consumer, Seed, IsFlagged, Level, wanted.Kind, wanted.Key,
                     wanted.Version
        )
    ),
    counted AS (
        SELECT Run, uniqExactIf(Seed, IsFlagged) AS FlaggedCount, uniqExact(Seed) AS Involved
        FROM reach
        GROUP BY Run
        HAVING FlaggedCount > 0
    )
SELECT
    run.Component AS component,
    run.SpanId AS run_id,
    run.StartTime AS start,
    counted.FlaggedCount AS flagged,
    (SELECT count() FROM flagged) AS total_flagged,
    counted.FlaggedCount / total_flagged AS coverage,
    counted.Involved AS involved,
    counted.FlaggedCount / sqrt(total_flagged * counted.Involved) AS score,
    arrayStringConcat(run.Outputs, ', ') AS outputs
FROM counted
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = counted.Run
ORDER BY score DESC, flagged DESC, start DESC, run_id DESC
LIMIT 100
