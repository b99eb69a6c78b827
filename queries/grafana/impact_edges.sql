-- Impact dashboard, Node Graph edges: pointer -> readers, run -> downstream run, run -> final output.
{{> grafana/_impact_walk}}
SELECT DISTINCT id, source, target
FROM (
    SELECT concat('pointer:', decodeURLComponent('${pointer:percentencode}'), '->', Run) AS id,
           concat('pointer:', decodeURLComponent('${pointer:percentencode}')) AS source,
           Run AS target
    FROM impact WHERE Level = 0
    UNION ALL
    SELECT concat(Parent, '->', Run), Parent, Run
    FROM impact ARRAY JOIN Parents AS Parent
    UNION ALL
    SELECT concat(Run, '->final:', Run, ':', Name), Run, concat('final:', Run, ':', Name)
    FROM finals
)
ORDER BY id
