-- Every tag used by any component.
SELECT DISTINCT arrayJoin(Tags) AS tag
FROM mltrace_components
ORDER BY tag
