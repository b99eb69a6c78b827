"""Notes added to runs after they were logged, kept in ``mltrace_notes``.

A run's ``notes`` are the notes it was logged with followed by every added note, oldest
first, one per line: adding never loses what was there.
"""

from __future__ import annotations

from collections.abc import Iterable

from mltrace_otel import _sql, _state
from mltrace_otel._models import Run
from mltrace_otel.store import Store


def attach(store: Store, runs: Iterable[Run]) -> None:
    """Append each run's added notes to ``run.notes``."""
    by_id = {run.id: run for run in runs}
    if not by_id:
        return
    for run_id, added in store.query(_sql.load("notes"), {"ids": list(by_id)}).rows:
        run = by_id[run_id]
        run.notes = "\n".join([run.notes, *added] if run.notes else added)


def add_notes_to_component_run(run_id: str, notes: str) -> str:
    """Add notes to a logged run (id or unique prefix); returns the run's notes now."""
    # _query attaches notes to every run it returns, so it is imported here, not at the top.
    from mltrace_otel._query import get_component_run_information, resolve_run_id

    if not isinstance(notes, str) or not notes.strip():
        raise ValueError("notes must be a non-empty string")
    full_id = resolve_run_id(run_id)
    _state.store().command(_sql.load("add_note"), {"run_id": full_id, "notes": notes})
    return get_component_run_information(full_id).notes
