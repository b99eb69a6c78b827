-- Component facts seen on run spans and on component definition spans (create/tag_component).
CREATE TABLE IF NOT EXISTS mltrace_components (
    Name LowCardinality(String),
    Owner String,
    Description String,
    Tags Array(String),
    Time DateTime64(9, 'UTC')
) ENGINE = MergeTree
ORDER BY (Name, Time)
