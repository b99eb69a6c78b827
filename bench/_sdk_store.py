"""Big stores of SDK-logged runs for benchmarks: one template chain logged through the SDK,
then replicated with new ids in SQL, so every stored row is the row the SDK wrote.

The template is chain 0: ``depth`` runs logged with ``ComponentRun``/``log_component_run``
(stage ``s`` reads ``c0-s<s-1>`` and writes ``c0-s<s>``), so each run after the first
carries the span link the SDK adds for its producer. Copy ``n`` of the template gets new
span and trace ids (an MD5 of the template id and ``n``; links are remapped the same way, so
they point into the same copy), pointer names ``c<n>-s<s>`` and start times shifted by
``n * depth`` milliseconds. The copies go through the materialized views like any insert.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import mltrace_otel as mltrace
from mltrace_otel import semconv, state
from mltrace_otel.store import Store
from mltrace_otel.store import sql as _sql

DEPTH = 10
"""Stages per chain."""

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Start of chain 0; chain ``n`` starts ``n * depth`` ms later."""

_COPY = """
INSERT INTO otel_traces
SELECT * EXCEPT (copy) REPLACE (
    Timestamp + toIntervalMillisecond(copy * {spacing_ms:UInt64}) AS Timestamp,
    lower(hex(MD5(concat(TraceId, '/', toString(copy))))) AS TraceId,
    substring(lower(hex(MD5(concat(SpanId, '/', toString(copy))))), 1, 16) AS SpanId,
    if(ParentSpanId = '', '',
       substring(lower(hex(MD5(concat(ParentSpanId, '/', toString(copy))))), 1, 16))
        AS ParentSpanId,
    mapApply((key, value) -> (key, if(key IN ('{{RUN_INPUTS}}', '{{RUN_OUTPUTS}}'),
        replaceAll(value, '"c0-', concat('"c', toString(copy), '-')), value)),
        SpanAttributes) AS SpanAttributes,
    arrayMap(id -> lower(hex(MD5(concat(id, '/', toString(copy))))), `Links.TraceId`)
        AS `Links.TraceId`,
    arrayMap(id -> substring(lower(hex(MD5(concat(id, '/', toString(copy))))), 1, 16),
        `Links.SpanId`) AS `Links.SpanId`,
    arrayMap(attributes -> mapApply((key, value) -> (key, if(key = '{{LINK_POINTER}}',
        replaceRegexpOne(value, '^c0-', concat('c', toString(copy), '-')), value)),
        attributes), `Links.Attributes`) AS `Links.Attributes`
)
FROM (SELECT * FROM otel_traces WHERE SpanId IN {template:Array(String)})
ARRAY JOIN range({first:UInt64}, {last:UInt64}) AS copy
"""


def pointer(chain: int, stage: int) -> str:
    """The pointer stage ``stage`` of chain ``chain`` writes."""
    return f"c{chain}-s{stage}"


def chain_output(chain: int, depth: int = DEPTH) -> str:
    """The final output pointer of chain ``chain``."""
    return pointer(chain, depth - 1)


def log_template(store: Store, depth: int = DEPTH) -> list[str]:
    """Log chain 0 through the SDK and ingest it; returns its span ids."""
    for stage in range(depth):
        run = mltrace.ComponentRun(f"stage{stage}")
        run.set_start_timestamp(T0 + timedelta(milliseconds=stage))
        if stage:
            run.add_input(pointer(0, stage - 1))
        run.add_output(pointer(0, stage))
        run.set_end_timestamp(T0 + timedelta(milliseconds=stage, microseconds=500))
        mltrace.log_component_run(run)
    mltrace.flush()
    store.ingest()
    rows = store.query(
        "SELECT SpanId FROM otel_traces WHERE SpanAttributes[{name:String}] LIKE 'stage%'"
        " AND Timestamp < {until:DateTime64(9)}",
        {"name": semconv.COMPONENT_NAME, "until": T0 + timedelta(milliseconds=depth)},
    ).rows
    ids = [row[0] for row in rows]
    assert len(ids) == depth, f"template has {len(ids)} of {depth} runs"
    return ids


def build(store: Store, runs: int, depth: int = DEPTH, batch_runs: int = 1_000_000) -> float:
    """Fill an empty store with ``runs`` SDK-logged runs (``runs // depth`` chains);
    returns the seconds it took."""
    start = time.perf_counter()
    grow(store, log_template(store, depth), 1, runs // depth, depth, batch_runs)
    return time.perf_counter() - start


def settle(store: Store, timeout_s: float = 1800.0) -> float:
    """Wait until the store runs no background merge (a freshly built store of 10^7 runs
    merges for minutes, competing with what is measured; a store in use has long settled);
    returns the seconds waited."""
    start = time.perf_counter()
    sql = "SELECT count() FROM system.merges WHERE database = currentDatabase()"
    while store.query(sql).rows[0][0] and time.perf_counter() - start < timeout_s:
        time.sleep(0.5)  # polling keeps the store open: chDB merges only while it is
    return time.perf_counter() - start


def grow(
    store: Store, template: list[str], first: int, last: int, depth: int = DEPTH,
    batch_runs: int = 1_000_000,
) -> None:
    """Add copies ``first`` .. ``last - 1`` of the template chain."""
    sql = _sql.render(_COPY)
    step = max(1, batch_runs // depth)
    for low in range(first, last, step):
        parameters = {
            "spacing_ms": depth, "first": low, "last": min(last, low + step),
            "template": template,
        }
        store.command(sql, parameters)
    store.touch()


def reuse_or_build(home: Path, runs: int, depth: int = DEPTH) -> str:
    """Configure mltrace on ``home`` and make it hold ``runs`` SDK-logged runs: reuse the
    store a previous ``reuse_or_build`` left there for the same size, else build it anew.
    Returns what was done, for the table's caption."""
    marker = home / "bench-store.txt"
    wanted = f"{runs} runs, depth {depth}"
    if marker.is_file() and marker.read_text() == wanted:
        mltrace.configure(home=home)
        return f"reused {home} ({wanted})"
    if home.exists() and any(home.iterdir()):
        raise SystemExit(f"{home} holds something else than a bench store of {wanted}: "
                         "give a new or empty folder")
    mltrace.configure(home=home)
    seconds = build(state.store(), runs, depth)
    marker.write_text(wanted)
    return f"built {wanted} in {seconds:.0f} s"
