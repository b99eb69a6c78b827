-- Trace dashboard, Node Graph edges: every dependency among the runs in the lineage of
-- output (variable "output_id"), drawn in the direction data flows (dependency -> reader).
-- Dependencies follow SPEC 3.3 (latest producer of each input that started no later than the
-- reader, at the reader's version when it names one; ties by later end, then later logged;
-- set_upstream components; span links). The recursion keeps, per level, one row per run with
-- its smallest depth-first path (sibling ranks, newest first) and every consumer that reached
-- it; the smallest path over all levels is the walk's first visit. Depth is bounded at 100.
{{> grafana/_lineage_walk}}
SELECT DISTINCT
    concat(Run, '->', Parent) AS id,
    Run AS source,
    Parent AS target
FROM lineage
ARRAY JOIN Parents AS Parent
ORDER BY id
