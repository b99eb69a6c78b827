-- The latest run of each component (or of one component when {component} is not empty).
SELECT argMax(SpanId, StartTime) AS SpanId
FROM mltrace_run_starts
WHERE {component:String} = '' OR Component = {component:String}
GROUP BY Component
ORDER BY Component
