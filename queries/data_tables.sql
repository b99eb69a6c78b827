-- Tables that hold data (not views, not the schema-version record): what clean_db() empties.
SELECT name
FROM system.tables
WHERE database = currentDatabase()
  AND engine LIKE '%MergeTree%'
  AND name != 'mltrace_schema'
ORDER BY name
