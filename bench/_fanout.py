"""A fan-out DAG for impact benchmarks, written straight into otel_traces by SQL.

One root input feeds one run; each run of level ``k`` feeds ``fanouts[k]`` runs of level
``k + 1`` (run ``i`` of level ``k + 1`` reads ``imp-<k>-<i div fanout>``). Spans follow the
semantic conventions exactly as the SDK writes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from mltrace_otel.store import Store
from mltrace_otel.store import sql as _sql

ROOT = "root.csv"
"""The input every run of the DAG depends on."""

_INSERT = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName,
                         ScopeName, SpanAttributes, Duration, StatusCode)
SELECT
    toDateTime64('2026-03-01 00:00:00', 9) + toIntervalHour({level:UInt64})
        + toIntervalMillisecond(number) AS Timestamp,
    lower(hex(MD5(concat('imp-trace-', toString({level:UInt64}), '-', toString(number))))),
    substring(lower(hex(MD5(concat('imp-', toString({level:UInt64}), '-', toString(number))))),
              1, 16) AS SpanId,
    concat('impact', toString({level:UInt64})) AS SpanName,
    'Internal', 'bench', '{{SCOPE_NAME}}',
    map(
        '{{COMPONENT_NAME}}', concat('impact', toString({level:UInt64})),
        '{{RUN_INPUTS}}', if({level:UInt64} = 0, concat('["', {root:String}, '"]'),
            concat('["imp-', toString({level:UInt64} - 1), '-',
                   toString(intDiv(number, {fanout:UInt64})), '"]')),
        '{{RUN_OUTPUTS}}', concat('["imp-', toString({level:UInt64}), '-', toString(number), '"]'),
        '{{VCS_REF_HEAD_REVISION}}', 'bench'
    ) AS SpanAttributes,
    1000000 AS Duration,
    'Ok'
FROM numbers({count:UInt64})
"""


def fill_fanout(store: Store, fanouts: Sequence[int] = (9, 10, 10, 10)) -> int:
    """Write the DAG (1 root run, then levels of ``fanouts``); returns how many runs."""
    sql = _sql.render(_INSERT)
    count, total = 1, 0
    for level, fanout in enumerate([1, *fanouts]):
        count = count * fanout if level else 1
        store.command(sql, {"level": level, "count": count, "fanout": fanout, "root": ROOT})
        total += count
    return total
