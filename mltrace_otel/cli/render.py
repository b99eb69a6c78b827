"""Human-readable CLI output (rich tables and trees)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from mltrace_otel.query.models import ComponentInfo, Run

if TYPE_CHECKING:
    from mltrace_otel.query.impact import Impact
    from mltrace_otel.query.review import Review

PIPED_WIDTH = 160
"""Table width when output is not a terminal (a pipe, a file, a server capturing it)."""

console = Console(highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)
_MAX_LISTED = 6


def _time(run: Run) -> str:
    return run.start_timestamp.strftime("%Y-%m-%d %H:%M:%S")


def _names(names: Sequence[str], limit: int | None = _MAX_LISTED) -> str:
    """Comma-separated names, the first ``limit`` of them (all when ``limit`` is None)."""
    if not names:
        return "-"
    limit = len(names) if limit is None else limit
    shown = ", ".join(names[:limit])
    hidden = len(names) - limit
    return f"{shown}, … (+{hidden} more)" if hidden > 0 else shown


def runs_table(runs: Sequence[Run], title: str) -> None:
    table = Table(title=title)
    for column in ("run id", "component", "start (UTC)", "duration", "status", "inputs", "outputs"):
        table.add_column(column, overflow="fold")
    for run in runs:
        table.add_row(
            run.id,
            Text(run.component_name),
            _time(run),
            f"{run.duration:.3f}s",
            run.status,
            Text(_names(run.inputs)),
            Text(_names(run.outputs)),
        )
    console.print(table)


def run_details(run: Run) -> None:
    table = Table(show_header=False, title=f"Run {run.id}")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("component", run.component_name),
        ("status", f"{run.status} {run.status_message}".strip()),
        ("start (UTC)", run.start_timestamp.isoformat()),
        ("end (UTC)", run.end_timestamp.isoformat()),
        ("duration", f"{run.duration:.3f}s"),
        ("trace id", run.trace_id),
        ("git hash", run.git_hash or "-"),
        ("git tags", _names(run.git_tags, limit=None)),
        ("inputs", _names(run.inputs, limit=None)),
        ("outputs", _names(run.outputs, limit=None)),
        ("dependencies", _names(run.dependencies, limit=None)),
        ("notes", run.notes or "-"),
    ]
    rows.extend(("stale", message) for message in run.stale)
    rows.extend(
        (kind, f"{'PASS' if result['passed'] else 'FAIL'} {result['phase']} {result['name']}"
         f"{' - ' + result['error'] if result['error'] else ''}")
        for kind, results in (("test", run.test_results), ("trigger", run.trigger_results))
        for result in results
    )
    for field, value in rows:
        table.add_row(field, Text(str(value)))  # user text: no rich markup
    console.print(table)
    if run.code_snapshot:
        console.print("[bold]code snapshot[/bold]")
        console.print(run.code_snapshot, markup=False)


def trace_tree(output_id: str, levels: Sequence[tuple[int, Run]]) -> None:
    root = Tree(Text(output_id, style="bold"))
    parents: list[Tree] = [root]
    for level, run in levels:
        label = Text(f"[{level}] ")
        label.append(run.component_name, style="bold")
        label.append(f" {run.id}")
        if run.stale:
            label.append(" (stale)", style="yellow")
        label.append(
            f"  start {_time(run)}  git {run.git_hash[:8] or '-'}  {run.status}\n"
            f"inputs: {_names(run.inputs)}\noutputs: {_names(run.outputs)}"
        )
        del parents[level + 1 :]
        parents.append(parents[-1].add(label))
    console.print(root)


def components_table(components: Sequence[ComponentInfo]) -> None:
    table = Table(title="Components")
    for column in ("name", "owner", "description", "tags"):
        table.add_column(column, overflow="fold")
    for component in components:
        table.add_row(
            *(Text(text) for text in (component.name, component.owner, component.description)),
            Text(_names(component.tags)),
        )
    console.print(table)


def rows_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(value)) for value in row))
    console.print(table)


def _status(run: Run) -> Text:
    """The run's status, and whether it is stale (in yellow)."""
    shown = Text(run.status, style="red" if run.status == "ERROR" else "")
    if run.stale:
        shown.append(", stale", style="yellow")
    return shown


def review_table(review: Review) -> None:
    """Suspects with coverage and score side by side."""
    console.print(f"{len(review.flagged_outputs)} flagged output(s): ", end="")
    console.print(Text(_names(review.flagged_outputs)))
    table = Table(title="Runs involved in flagged outputs")
    columns = ("#", "score", "coverage", "component", "run id", "start (UTC)", "status", "outputs")
    for column in columns:
        table.add_column(column, overflow="fold")
    for rank, suspect in enumerate(review.suspects, 1):
        run = suspect.run
        table.add_row(
            str(rank),
            "-" if suspect.score is None else f"{suspect.score:.3f}",
            f"{suspect.count}/{len(review.flagged_outputs)} ({suspect.coverage:.0%})",
            Text(run.component_name),
            run.id,
            _time(run),
            _status(run),
            Text(_names(run.outputs)),
        )
    console.print(table)


def impact_tree(impact: Impact) -> None:
    """Downstream runs as a tree, then the affected final outputs."""
    root = Tree(Text(f"{impact.source} ({impact.kind})", style="bold"))
    parents: list[Tree] = [root]
    for level, run in impact.runs:
        label = Text(f"[{level}] ")
        label.append(run.component_name, style="bold")
        label.append(f" {run.id}  start {_time(run)}  {run.status}")
        if run.stale:
            label.append(" (stale)", style="yellow")
        label.append(f"\noutputs: {_names(run.outputs)}")
        del parents[level + 1 :]
        parents.append(parents[-1].add(label))
    console.print(root)
    console.print(f"{impact.count} affected final output(s): ", end="")
    console.print(Text(_names([output.name for output in impact.final_outputs])))


def stale_table(runs: Sequence[Run]) -> None:
    """Stale runs with the reasons."""
    table = Table(title="Stale runs (latest run of each component)")
    for column in ("component", "run id", "start (UTC)", "why"):
        table.add_column(column, overflow="fold")
    for run in runs:
        table.add_row(Text(run.component_name), run.id, _time(run), Text("\n".join(run.stale)))
    console.print(table)
