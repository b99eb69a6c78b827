"""Human-readable CLI output (rich tables and trees)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from mltrace_otel._models import ComponentInfo, Run

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
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
            run.component_name,
            _time(run),
            f"{run.duration:.3f}s",
            run.status,
            _names(run.inputs),
            _names(run.outputs),
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
        ("test", f"{'PASS' if result['passed'] else 'FAIL'} {result['phase']} {result['name']}"
         f"{' - ' + result['error'] if result['error'] else ''}")
        for result in run.test_results
    )
    for field, value in rows:
        table.add_row(field, str(value))
    console.print(table)
    if run.code_snapshot:
        console.print("[bold]code snapshot[/bold]")
        console.print(run.code_snapshot, markup=False)


def trace_tree(output_id: str, levels: Sequence[tuple[int, Run]]) -> None:
    root = Tree(f"[bold]{output_id}[/bold]")
    parents: list[Tree] = [root]
    for level, run in levels:
        marker = " [yellow](stale)[/yellow]" if run.stale else ""
        label = (
            f"[{level}] [bold]{run.component_name}[/bold] {run.id}{marker}  "
            f"start {_time(run)}  git {run.git_hash[:8] or '-'}  {run.status}\n"
            f"inputs: {_names(run.inputs)}\noutputs: {_names(run.outputs)}"
        )
        del parents[level + 1 :]
        node = parents[-1].add(label)
        parents.append(node)
    console.print(root)


def components_table(components: Sequence[ComponentInfo]) -> None:
    table = Table(title="Components")
    for column in ("name", "owner", "description", "tags"):
        table.add_column(column, overflow="fold")
    for component in components:
        table.add_row(
            component.name, component.owner, component.description, _names(component.tags)
        )
    console.print(table)


def rows_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    console.print(table)
