-- Variable: output ids written by runs in the time range, most recently written first.
SELECT Pointer
FROM mltrace_io
WHERE Direction = 'output' AND $__timeFilter(StartTime)
GROUP BY Pointer
ORDER BY max(StartTime) DESC, Pointer
LIMIT 1000
