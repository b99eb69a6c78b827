"""mltrace names whose features mltrace-otel does not have yet: labels and Task metrics.

They exist so that a script importing them keeps importing; calling one raises
``NotImplementedError`` saying so, instead of silently doing nothing.
"""

from __future__ import annotations

from typing import Any, NoReturn

_WHAT = {
    "retract_label": "labels",
    "retract_labels": "labels",
    "retrieve_retracted_labels": "labels",
    "retrieve_io_pointers_for_label": "labels",
    "get_labels": "labels",
    "log_output": "Task output and feedback logging",
    "log_feedback": "Task output and feedback logging",
    "compute_metric": "Task metrics",
}


def _not_built(name: str) -> Any:
    def stub(*args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(
            f"mltrace.{name}() is not available in mltrace-otel: {_WHAT[name]} are not built "
            "yet (see README, 'Compatibility with mltrace')"
        )

    stub.__name__ = stub.__qualname__ = name
    stub.__doc__ = f"Not built in mltrace-otel ({_WHAT[name]}): raises NotImplementedError."
    return stub


retract_label = _not_built("retract_label")
retract_labels = _not_built("retract_labels")
retrieve_retracted_labels = _not_built("retrieve_retracted_labels")
retrieve_io_pointers_for_label = _not_built("retrieve_io_pointers_for_label")
get_labels = _not_built("get_labels")
log_output = _not_built("log_output")
log_feedback = _not_built("log_feedback")
compute_metric = _not_built("compute_metric")


class Task:
    """mltrace's Task (output/feedback metrics): not built in mltrace-otel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "mltrace.Task is not available in mltrace-otel: Task metrics are not built yet "
            "(see README, 'Compatibility with mltrace')"
        )
