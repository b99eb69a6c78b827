"""mltrace's helper functions: ids, save/load (logged inside a run)."""

from __future__ import annotations

import uuid
from typing import Any

from mltrace_otel import state
from mltrace_otel.sdk.component import current_run
from mltrace_otel.sdk.pointers import load_object, save_object


def create_random_ids(num_outputs: int = 1) -> list[str]:
    """``num_outputs`` unique ids (UUID strings, as in mltrace), e.g. for prediction outputs."""
    return [str(uuid.uuid4()) for _ in range(int(num_outputs))]


def save(obj: Any, path: str | None = None, *, pathname: str | None = None) -> str:
    """Pickle ``obj`` (content-addressed under SAVE_DIR unless ``path`` is given; mltrace's
    keyword ``pathname`` is the same). Inside a component run the file is logged as an
    output. Returns the path."""
    pointer = save_object(obj, state.logging_settings().save_dir, path or pathname)
    run = current_run.get()
    if run is not None:
        run.add_output(pointer)
    return pointer.name


def load(path: str | None = None, *, pathname: str | None = None) -> Any:
    """Unpickle the object at ``path`` (mltrace's keyword: ``pathname``); inside a component
    run it is logged as an input."""
    target = path or pathname
    if not target:
        raise TypeError("load() needs the path of a saved object")
    obj, pointer = load_object(target)
    run = current_run.get()
    if run is not None:
        run.add_input(pointer)
    return obj
