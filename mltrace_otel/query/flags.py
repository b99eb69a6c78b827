"""Flagged outputs (SPEC 3.4): kept in ``mltrace_flags`` beside ``otel_traces``; the latest
flag or unflag of an output id wins, and flags survive restarts like runs do."""

from __future__ import annotations

from mltrace_otel import state
from mltrace_otel.query.models import spec_argument
from mltrace_otel.query.runs import NotFoundError
from mltrace_otel.store import Store, sql


def pointer_known(store: Store, pointer: str) -> bool:
    """Whether any run read or wrote ``pointer``."""
    return bool(store.query(sql.load("pointer_known"), {"pointer": pointer}).rows[0][0])


def flagged_output_ids(store: Store) -> list[str]:
    """Output ids flagged now, oldest flag first."""
    return [row[0] for row in store.query(sql.load("flagged")).rows]


def flag_output_id(id: str | None = None, *, output_id: str | None = None) -> bool:
    """Flag an output as bad; returns True (as mltrace). Raises ``NotFoundError`` when no run
    read or wrote it. ``output_id=`` is mltrace's name for ``id``."""
    output_id = spec_argument(id, output_id, ("id", "output_id"))
    store = state.store()
    if not pointer_known(store, output_id):
        raise NotFoundError(f"cannot flag {output_id!r}: no run read or wrote it")
    store.command(sql.load("flag"), {"output_id": output_id, "flagged": 1})
    return True


def unflag_output_id(id: str | None = None, *, output_id: str | None = None) -> bool:
    """Clear the flag of an output; returns False (the flag's value, as mltrace). Raises
    ``NotFoundError`` for an id that is neither flagged nor read or written by any run
    (unflagging a known, unflagged id is a no-op). ``output_id=`` is mltrace's name for ``id``."""
    output_id = spec_argument(id, output_id, ("id", "output_id"))
    store = state.store()
    if output_id not in flagged_output_ids(store):
        if not pointer_known(store, output_id):
            raise NotFoundError(f"cannot unflag {output_id!r}: no run read or wrote it")
        return False
    store.command(sql.load("flag"), {"output_id": output_id, "flagged": 0})
    return False


def unflag_all() -> None:
    """Clear every flag."""
    state.store().command(sql.load("unflag_all"))
