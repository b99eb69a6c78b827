-- Components with their latest non-empty owner and description and all their tags,
-- filtered by tag and owner when those are not empty.
SELECT Name, Owner, Description, Tags
FROM (
    SELECT
        Name,
        argMaxIf(Owner, Time, Owner != '') AS Owner,
        argMaxIf(Description, Time, Description != '') AS Description,
        arraySort(groupUniqArrayArray(Tags)) AS Tags
    FROM mltrace_components
    WHERE {name:String} = '' OR Name = {name:String}
    GROUP BY Name
)
WHERE ({tag:String} = '' OR has(Tags, {tag:String}))
  AND ({owner:String} = '' OR Owner = {owner:String})
ORDER BY Name
