-- Variable: every component that has runs.
SELECT DISTINCT Component FROM mltrace_run_starts ORDER BY Component
