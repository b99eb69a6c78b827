"""mltrace's helper functions: ids, save/load (logged inside a run)."""

from __future__ import annotations

import uuid
from typing import Any

from mltrace_otel import state
from mltrace_otel.sdk.component import current_run
from mltrace_otel.sdk.pointers import load_object, save_object


def create_random_ids(num_outputs: int) -> list[str]:
    """``num_outputs`` unique ids, e.g. for prediction outputs."""
    return [uuid.uuid4().hex for _ in range(int(num_outputs))]


def save(obj: Any, path: str | None = None) -> str:
    """Pickle ``obj`` (content-addressed under SAVE_DIR unless ``path`` is given).

    Inside a component run the saved file is logged as an output. Returns the path.
    """
    pointer = save_object(obj, state.settings().save_dir, path)
    run = current_run.get()
    if run is not None:
        run.add_output(pointer)
    return pointer.name


def load(path: str) -> Any:
    """Unpickle the object at ``path``; inside a component run it is logged as an input."""
    obj, pointer = load_object(path)
    run = current_run.get()
    if run is not None:
        run.add_input(pointer)
    return obj
