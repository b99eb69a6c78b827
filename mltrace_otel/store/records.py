"""Run records: what a run is built from, one JSON array per run (``mltrace_runs.Record``).

``queries/schema/10_mltrace_runs.sql`` computes the record as rows are written, in the order
of ``FIELDS``; ``queries/runs.sql`` reads it by span id. Runs scattered over a large table
cost a granule read per run and per column named, so one column beats seventeen; read as
raw text, the records are parsed once (not as strings inside a JSON result, then again).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final

from mltrace_otel.store import sql
from mltrace_otel.store.base import Store

FIELDS: Final = (
    "TraceId", "Component", "ServiceName", "StatusCode", "StatusMessage",
    "Inputs", "InputVersions", "InputTypes", "Outputs", "OutputVersions", "OutputTypes",
    "Attributes", "EventNames", "EventAttributes", "StartNs", "EndNs", "OutputKeys",
)
"""The record's fields in its order. ``StartNs``/``EndNs`` are Unix nanoseconds and
``OutputKeys`` the outputs' lineage index keys (first 8 bytes of MD5), all as decimal
strings: a 64-bit number in JSON is quoted or not depending on the inserting session."""

COMPONENT: Final = FIELDS.index("Component")
OUTPUTS: Final = FIELDS.index("Outputs")
ATTRIBUTES: Final = FIELDS.index("Attributes")
START_NS: Final = FIELDS.index("StartNs")
OUTPUT_KEYS: Final = FIELDS.index("OutputKeys")


def read(store: Store, ids: Sequence[str]) -> list[list[Any]]:
    """[span id, record fields] of each run of ``ids`` the store has (``queries/runs.sql``)."""
    return _decode(store.text(sql.load("runs"), {"ids": list(ids)}))


def read_soon(store: Store, ids: Sequence[str]) -> Callable[[], list[list[Any]]]:
    """``read`` begun now (``Store.text_soon``), its result given by calling what this
    returns: a walk starts reading the runs of one level while it finds the next."""
    collect = store.text_soon(sql.load("runs"), {"ids": list(ids)})
    return lambda: _decode(collect())


def _decode(text: str) -> list[list[Any]]:
    lines = text.splitlines()
    return json.loads(f"[{','.join(lines)}]") if lines else []
