-- Variable: pointers read by runs in the time range, most recently read first.
SELECT Pointer
FROM mltrace_io
WHERE Direction = 'input' AND $__timeFilter(StartTime)
GROUP BY Pointer
ORDER BY max(StartTime) DESC, Pointer
LIMIT 1000
