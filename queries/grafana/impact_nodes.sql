-- Impact dashboard, Node Graph nodes: the pointer, the runs downstream of it, their final outputs.
{{> grafana/_impact_walk}}
SELECT id, title, subtitle, mainstat, secondarystat, arc__ok, arc__error, arc__unset, arc__data
FROM (
    SELECT concat('pointer:', decodeURLComponent('${pointer:percentencode}')) AS id,
           decodeURLComponent('${pointer:percentencode}') AS title, 'pointer' AS subtitle,
           'pointer' AS mainstat, '' AS secondarystat,
           0. AS arc__ok, 0. AS arc__error, 0. AS arc__unset, 1. AS arc__data,
           CAST([], 'Array(UInt32)') AS Sort
    WHERE (SELECT count() FROM visited) > 0
    UNION ALL
    SELECT run.SpanId, run.Component, run.SpanId,
           multiIf(run.StatusCode = 'Ok', 'OK', run.StatusCode = 'Error', 'ERROR', 'UNSET'),
           concat('level ', toString(visited.FirstLevel)),
           toFloat64(run.StatusCode = 'Ok'), toFloat64(run.StatusCode = 'Error'),
           toFloat64(run.StatusCode NOT IN ('Ok', 'Error')), 0., visited.FirstPath
    FROM visited
    INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = visited.Run
    UNION ALL
    SELECT concat('final:', finals.Run, ':', finals.Name), finals.Name, 'final output',
           'final output', '', 0., 0., 0., 1., arrayPushBack(visited.FirstPath, toUInt32(1000000 + finals.Position))
    FROM finals
    INNER JOIN visited ON visited.Run = finals.Run
)
ORDER BY Sort, id
