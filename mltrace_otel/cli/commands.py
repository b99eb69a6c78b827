"""The ``mltrace`` command line (click): human-readable by default, ``--json`` for scripts.

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.cli import run as _run
from mltrace_otel.cli import serve as _serve
from mltrace_otel.cli.options import store_options
from mltrace_otel.query import SORTS
from mltrace_otel.secrets import redact

if TYPE_CHECKING:
    from types import ModuleType

F = Callable[..., Any]


def _render() -> ModuleType:
    """Tables and trees (rich), imported by the commands that print them."""
    from mltrace_otel.cli import render

    return render


def _json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


@contextlib.contextmanager
def _usage_errors_in_one_line() -> Iterator[None]:
    """A usage error becomes one line on stderr (SPEC 3.5) that names the help to read,
    with click's exit code (2), instead of click's usage block."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:  # a bare `mltrace`: the help itself
        raise
    except click.UsageError as error:
        where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        problem = click.ClickException(f"{error.format_message()}{where}")
        problem.exit_code = error.exit_code
        raise problem from None


class _Commands(click.Group):
    """The ``mltrace`` group: usage errors of the group and of every command in one line."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _usage_errors_in_one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_in_one_line():
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(mltrace.__version__, prog_name="mltrace")
def main() -> None:
    """mltrace-otel: which runs, code and data produced this output?"""
    # clickhouse-connect logs driver errors itself; the CLI reports each error as one line.
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)


@main.command()
@click.option("--limit", default=5, show_default=True, type=click.IntRange(min=1),
              help="How many runs.")
@_json_option
@store_options
def recent(limit: int, as_json: bool) -> None:
    """The most recent runs, newest first."""
    from mltrace_otel.query.runs import fetch_runs

    ids = mltrace.get_recent_run_ids(limit=limit)
    runs = fetch_runs(ids)
    ordered = [runs[run_id] for run_id in ids if run_id in runs]
    if as_json:
        _print_json([run.to_dict() for run in ordered])
    else:
        _render().runs_table(ordered, title="Recent runs")


@main.command()
@click.argument("name")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many runs.")
@_json_option
@store_options
def history(name: str, limit: int, as_json: bool) -> None:
    """Runs of component NAME, newest first."""
    runs = mltrace.get_history(name, limit=limit)
    if as_json:
        _print_json([run.to_dict() for run in runs])
    else:
        _render().runs_table(runs, title=f"History of {name}")


@main.command()
@click.argument("run_id")
@_json_option
@store_options
def inspect(run_id: str, as_json: bool) -> None:
    """Everything about one run (RUN_ID may be a unique prefix of 6+ characters)."""
    run = mltrace.get_component_run_information(run_id)
    if as_json:
        _print_json(run.to_dict())
    else:
        _render().run_details(run)


@main.command()
@click.argument("output_id")
@_json_option
@store_options
def trace(output_id: str, as_json: bool) -> None:
    """The runs, code and data that produced OUTPUT_ID, as a tree."""
    levels = mltrace.trace(output_id)
    if as_json:
        _print_json([{"level": level, **run.to_dict()} for level, run in levels])
    else:
        _render().trace_tree(output_id, levels)


@main.command()
@click.option("--owner", default="", help="Only components with this owner.")
@click.option("--tag", default="", help="Only components with this tag.")
@_json_option
@store_options
def components(owner: str, tag: str, as_json: bool) -> None:
    """Components with their owners, descriptions and tags."""
    found = mltrace.get_components(tag=tag, owner=owner)
    if as_json:
        _print_json([component.to_dict() for component in found])
    else:
        _render().components_table(found)


@main.command()
@_json_option
@store_options
def tags(as_json: bool) -> None:
    """Every tag used by a component."""
    found = mltrace.get_tags()
    if as_json:
        _print_json(found)
    else:
        for tag in found:
            click.echo(tag)


@main.command()
@click.argument("sql")
@click.option("--write", is_flag=True, help="Allow writes and DDL (default: read-only).")
@_json_option
@store_options
def sql(sql: str, write: bool, as_json: bool) -> None:
    """Run SQL on the configured store (after ingesting pending spans); read-only unless
    --write."""
    if not sql.strip():
        raise click.UsageError("SQL is empty")
    store = state.store()
    result = store.query(sql, readonly=not write)
    if write:
        store.touch()  # the SQL may have written
    if as_json:
        _print_json(result.dicts())
    elif result.columns:  # DDL and INSERT (--write) return nothing to show
        _render().rows_table(result.columns, result.rows)


@main.command()
@click.argument("output_id")
@store_options
def flag(output_id: str) -> None:
    """Flag OUTPUT_ID as a bad output, for review."""
    mltrace.flag_output_id(output_id)
    click.echo(f"flagged {output_id}")


@main.command()
@click.argument("output_id", required=False)
@click.option("--output_id", "output_option", default=None, metavar="OUTPUT_ID",
              help="mltrace's form of OUTPUT_ID.")
@click.option("--all", "everything", is_flag=True, help="Clear every flag.")
@store_options
def unflag(output_id: str | None, output_option: str | None, everything: bool) -> None:
    """Clear the flag of OUTPUT_ID, or of every output with --all."""
    if output_id is not None and output_option is not None:
        raise click.UsageError("give OUTPUT_ID once")
    output_id = output_id if output_option is None else output_option
    if everything == (output_id is not None):
        raise click.UsageError("give either OUTPUT_ID or --all")
    if output_id is None:
        mltrace.unflag_all()
        click.echo("unflagged all outputs")
    else:
        mltrace.unflag_output_id(output_id)
        click.echo(f"unflagged {output_id}")


@main.command()
@store_options
def clear() -> None:
    """Delete every run, component, flag and note of the store (mltrace's clear; no prompt)."""
    mltrace.clean_db()
    click.echo("cleared the store")


@main.command()
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many runs.")
@click.option(
    "--sort", type=click.Choice(SORTS), default="score", show_default=True,
    help="Order by suspiciousness score or by coverage.",
)
@_json_option
@store_options
def review(limit: int, sort: str, as_json: bool) -> None:
    """Runs involved in the flagged outputs: coverage and suspiciousness score."""
    result = mltrace.review(limit=limit, sort=sort)
    if as_json:
        _print_json(result.to_dict())
    elif not result.flagged_outputs:
        click.echo("no flagged outputs: flag some with `mltrace flag OUTPUT_ID`")
    else:
        _render().review_table(result)


@main.command()
@click.argument("pointer_or_run_id")
@_json_option
@store_options
def impact(pointer_or_run_id: str, as_json: bool) -> None:
    """Every run and final output downstream of a pointer or a run."""
    result = mltrace.impact(pointer_or_run_id)
    if as_json:
        _print_json(result.to_dict())
    else:
        _render().impact_tree(result)


@main.command()
@click.option("--component", default=None, help="Only this component.")
@_json_option
@store_options
def stale(component: str | None, as_json: bool) -> None:
    """Stale runs among the latest run of each component."""
    runs = mltrace.get_stale_runs(component)
    if as_json:
        _print_json([run.to_dict() for run in runs])
    elif not runs:
        click.echo("no stale runs")
    else:
        _render().stale_table(runs)


@main.command()
@click.argument("run_id")
@click.argument("text")
@store_options
def note(run_id: str, text: str) -> None:
    """Add TEXT to the notes of run RUN_ID (a unique prefix of 6+ characters works)."""
    click.echo(mltrace.add_notes_to_component_run(run_id, text))


@main.command("init-db")
@click.option("--check", is_flag=True, help="Report drift from this release's schema; exit 1.")
@click.option("--rebuild", is_flag=True, help="Recreate mltrace's tables, refill from otel_traces.")
@store_options
def init_db(check: bool, rebuild: bool) -> None:
    """Create otel_traces and mltrace's tables and views, migrate them, or repair drift
    (idempotent); --check only reports drift, --rebuild refills the derived tables."""
    from mltrace_otel.store.schema import SCHEMA_VERSION

    if check and rebuild:
        raise click.UsageError("give --check or --rebuild, not both")
    store = state.store()
    if check:
        problems = store.schema_drift()
        for problem in problems:
            click.echo(f"drift: {problem}")
        if problems:
            sys.exit(1)
        click.echo(f"schema version {SCHEMA_VERSION}: no drift")
    elif rebuild:
        spans = store.rebuild()
        store.touch()
        click.echo(f"rebuilt mltrace's tables from {spans} span(s) in otel_traces")
    else:
        migrated = ", migrated" if store.init_db() else ""
        repaired = store.repair()
        for problem in repaired:
            click.echo(f"repaired: {problem}")
        left = store.schema_drift() if repaired else []
        for problem in left:
            click.echo(f"drift: {problem}")
        if left:
            sys.exit(1)
        click.echo(f"store ready (schema version {SCHEMA_VERSION}{migrated})")
        if any(problem.startswith(("view ", "table ")) for problem in repaired):
            click.echo("runs stored while a table or view was missing are not in mltrace's "
                       "tables: `mltrace init-db --rebuild` refills them from otel_traces")


@main.command()
@click.option("--home", default=None, help="Demo store folder (default: a new temp folder).")
def demo(home: str | None) -> None:
    """Run the example pipeline in separate processes and trace its last prediction."""
    from mltrace_otel.cli import demo as _demo

    try:
        sys.exit(_demo.run(home))
    except (RuntimeError, OSError) as error:
        raise click.ClickException(redact(str(error))) from None


main.add_command(_serve.serve)
main.add_command(_run.run)
