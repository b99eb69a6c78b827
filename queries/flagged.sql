-- Output ids flagged now (latest write per id is a flag), oldest flag first.
SELECT OutputId
FROM mltrace_flags
GROUP BY OutputId
HAVING argMax(Flagged, Version) = 1
ORDER BY max(Version), OutputId
