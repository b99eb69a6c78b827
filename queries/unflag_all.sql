-- Unflag every output id that is flagged now.
INSERT INTO mltrace_flags (OutputId, Flagged)
SELECT OutputId, 0
FROM mltrace_flags
GROUP BY OutputId
HAVING argMax(Flagged, Version) = 1
