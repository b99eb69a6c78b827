-- Impact dashboard, table.
{{> grafana/_impact_walk}}
SELECT
    visited.FirstLevel AS level,
    run.Component AS component,
    run.SpanId AS run_id,
    run.StartTime AS start,
    multiIf(run.StatusCode = 'Ok', 'OK', run.StatusCode = 'Error', 'ERROR', 'UNSET') AS status,
    arrayStringConcat(arrayMap(item -> item.2, arraySort(groupArray((finals.Position, finals.Name)))), ', ') AS final_outputs
FROM visited
INNER JOIN (SELECT * FROM mltrace_runs LIMIT 1 BY SpanId) AS run ON run.SpanId = visited.Run
LEFT JOIN finals ON finals.Run = visited.Run
GROUP BY visited.FirstPath, level, component, run_id, start, status
ORDER BY visited.FirstPath
