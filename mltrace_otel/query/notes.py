"""Notes added to runs after they were logged, kept in ``mltrace_notes``.

A run's ``notes`` are the notes it was logged with followed by every added note, oldest
first, one per line: adding never loses what was there.
"""

from __future__ import annotations

from collections.abc import Iterable

from mltrace_otel.query.models import Run
from mltrace_otel.store import Store, sql


def attach_notes(store: Store, runs: Iterable[Run]) -> None:
    """Append each run's added notes to ``run.notes``."""
    by_id = {run.id: run for run in runs}
    if not by_id:
        return
    for run_id, added in store.query(sql.load("notes"), {"ids": list(by_id)}).rows:
        run = by_id[run_id]
        run.notes = "\n".join([run.notes, *added] if run.notes else added)


