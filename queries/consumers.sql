-- Candidate consumers of runs (forward lineage): runs that read one of {pointers}, name one
-- of {components} with set_upstream, or link to one of {ids}, and started no earlier than
-- {since_ns}. The lineage rule (SPEC 3.3) then confirms each candidate from its own inputs,
-- upstream components and links, which every row carries (a reader has one row per pointer
-- read; a row of a run with continuation spans, Continued, carries only some of the run's
-- inputs, so the caller reads that run's inputs by id).
SELECT SpanId, toUnixTimestamp64Nano(StartTime) AS StartNs,
       RunInputs AS Inputs, RunInputVersions AS InputVersions,
       RunUpstream AS Upstream, RunLinks AS Links, RunContinued AS Continued
FROM mltrace_io
WHERE Direction = 'input'
  AND Pointer IN {pointers:Array(String)}
  AND StartTime >= fromUnixTimestamp64Nano({since_ns:Int64}, 'UTC')
UNION ALL
SELECT SpanId, toUnixTimestamp64Nano(StartTime) AS StartNs,
       Inputs, InputVersions, Upstream, LinkSpanIds AS Links,
       toBool(has(Attributes.keys, '{{RUN_CONTINUATION_SPANS}}')) AS Continued
FROM mltrace_runs
WHERE (hasAny(Upstream, {components:Array(String)}) OR hasAny(LinkSpanIds, {ids:Array(String)}))
  AND StartTime >= fromUnixTimestamp64Nano({since_ns:Int64}, 'UTC')
