"""Impact analysis: every run and final output downstream of a pointer or a run (the blast
radius of a bad data version or a bad run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mltrace_otel import state
from mltrace_otel.lineage import downstream as _downstream
from mltrace_otel.lineage.dependencies import Lineage, consumers_by_id
from mltrace_otel.lineage.walk import depth_first
from mltrace_otel.query.flags import pointer_known
from mltrace_otel.query.models import Run
from mltrace_otel.query.runs import (
    AmbiguousRunIdError,
    NotFoundError,
    RunRows,
    resolve_run_id,
    with_dependencies,
)
from mltrace_otel.store.bulk import gc_paused


@dataclass(frozen=True)
class FinalOutput:
    """An output of a downstream run that no run starting no earlier read."""

    name: str
    run_id: str


@dataclass
class Impact:
    """What lies downstream of ``source``."""

    source: str
    kind: str
    """``pointer`` or ``run``."""
    runs: list[tuple[int, Run]]
    """``(level, run)`` depth-first, earliest first; level 0 is the run itself, or every
    run that read the pointer."""
    final_outputs: list[FinalOutput]

    @property
    def count(self) -> int:
        """How many final outputs are affected."""
        return len(self.final_outputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "affected_final_outputs": self.count,
            "final_outputs": [vars(output) for output in self.final_outputs],
            "runs": [{"level": level, **run.to_dict()} for level, run in self.runs],
        }


@gc_paused
def impact(pointer_or_run_id: str) -> Impact:
    """Every run and final output downstream of a pointer (any run that read it, then what
    depends on those) or of a run (id or unique prefix)."""
    store = state.store()
    lineage = Lineage(store)
    if pointer_known(store, pointer_or_run_id):
        kind = "pointer"
        roots = _downstream.readers(lineage, pointer_or_run_id)
    else:
        kind = "run"
        try:
            run_id = resolve_run_id(pointer_or_run_id)
        except AmbiguousRunIdError:
            raise
        except NotFoundError:
            raise NotFoundError(
                f"{pointer_or_run_id!r} is neither a pointer that a run read or wrote nor a run id"
            ) from None
        roots = lineage.dependencies(list(consumers_by_id(store, [run_id]).values()))
    rows = RunRows(store)  # reads the runs whole with their facts: no second read after the walk
    down = _downstream.walk(lineage, list(roots), roots, rows.facts, reached=rows.soon)
    runs = with_dependencies(store, rows.runs, down.dependencies)
    order = sorted(
        (run for run in roots if run in down.facts),
        key=lambda run: (down.facts[run].start_ns, run),
    )
    ordered = depth_first(
        order, down.children, runs, key=lambda child: (down.facts[child].start_ns, child)
    )
    final = [
        FinalOutput(name, run.id) for _, run in ordered for name in down.final_outputs[run.id]
    ]
    return Impact(pointer_or_run_id, kind, ordered, final)
