"""Synthetic stores for benchmarks: many runs written straight into otel_traces by SQL.

Runs form chains of ``depth`` stages: stage ``s`` of chain ``c`` reads ``c<c>-s<s-1>`` and
writes ``c<c>-s<s>``; the spans follow the semantic conventions exactly as the SDK writes
them, so the materialized views index them like any other run.
"""

from __future__ import annotations

from mltrace_otel.store import Store
from mltrace_otel.store import sql as _sql

_INSERT = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName,
                         ScopeName, SpanAttributes, Duration, StatusCode)
SELECT
    toDateTime64('2026-01-01 00:00:00', 9) + toIntervalSecond(number) AS Timestamp,
    lower(hex(MD5(toString(number)))) AS TraceId,
    substring(lower(hex(MD5(concat('span', toString(number))))), 1, 16) AS SpanId,
    concat('stage', toString(number % {depth:UInt64})) AS SpanName,
    'Internal', 'bench', '{{SCOPE_NAME}}',
    map(
        '{{COMPONENT_NAME}}', concat('stage', toString(number % {depth:UInt64})),
        '{{RUN_INPUTS}}', if(number % {depth:UInt64} = 0, '[]',
            concat('["c', toString(intDiv(number, {depth:UInt64})), '-s',
                   toString(number % {depth:UInt64} - 1), '"]')),
        '{{RUN_OUTPUTS}}', concat('["c', toString(intDiv(number, {depth:UInt64})), '-s',
                   toString(number % {depth:UInt64}), '"]'),
        '{{VCS_REF_HEAD_REVISION}}', 'bench'
    ) AS SpanAttributes,
    1000000 AS Duration,
    'Ok'
FROM numbers({offset:UInt64}, {count:UInt64})
"""


DEPTH = 10
"""Stages per chain."""


def fill(
    store: Store, runs: int, offset: int = 0, depth: int = DEPTH, batch: int = 200_000
) -> None:
    """Append ``runs`` synthetic runs numbered from ``offset`` (chains of ``depth``)."""
    sql = _sql.render(_INSERT)
    for start in range(offset, offset + runs, batch):
        count = min(batch, offset + runs - start)
        store.command(sql, {"depth": depth, "offset": start, "count": count})


def chain_output(chain: int, depth: int = DEPTH) -> str:
    """The final output pointer of chain ``chain``."""
    return f"c{chain}-s{depth - 1}"


