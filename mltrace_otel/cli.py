"""The ``mltrace`` command line (click): human-readable by default, ``--json`` for scripts.

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

import mltrace_otel as mltrace
from mltrace_otel import _render, _state
from mltrace_otel._query import fetch_runs

F = Callable[..., Any]


def _store_options(command: F) -> F:
    """``--address``/``--url`` (point at a ClickHouse server) and error handling."""

    @click.option("--address", default=None, help="ClickHouse server host (mltrace's set_address).")
    @click.option("--url", default=None, help="ClickHouse server URL, e.g. http://host:8123/db.")
    @functools.wraps(command)
    def wrapper(*args: Any, address: str | None, url: str | None, **kwargs: Any) -> Any:
        try:
            if url:
                mltrace.set_db_uri(url)
            elif address:
                mltrace.set_address(address)
            return command(*args, **kwargs)
        except (mltrace.NotFoundError, mltrace.StoreError, mltrace.ConfigurationError) as error:
            raise click.ClickException(str(error)) from None
        except (ValueError, OSError) as error:
            raise click.ClickException(f"{type(error).__name__}: {error}") from None

    return wrapper


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(mltrace.__version__, prog_name="mltrace")
def main() -> None:
    """mltrace-otel: which runs, code and data produced this output?"""
    # clickhouse-connect logs driver errors itself; the CLI reports each error as one line.
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)


@main.command()
@click.option("--limit", default=5, show_default=True, help="How many runs.")
@_json_option
@_store_options
def recent(limit: int, as_json: bool) -> None:
    """The most recent runs, newest first."""
    ids = mltrace.get_recent_run_ids(limit=limit)
    runs = fetch_runs(ids)
    ordered = [runs[run_id] for run_id in ids if run_id in runs]
    if as_json:
        _print_json([run.to_dict() for run in ordered])
    else:
        _render.runs_table(ordered, title="Recent runs")


@main.command()
@click.argument("name")
@click.option("--limit", default=10, show_default=True, help="How many runs.")
@_json_option
@_store_options
def history(name: str, limit: int, as_json: bool) -> None:
    """Runs of component NAME, newest first."""
    runs = mltrace.get_history(name, limit=limit)
    if as_json:
        _print_json([run.to_dict() for run in runs])
    else:
        _render.runs_table(runs, title=f"History of {name}")


@main.command()
@click.argument("run_id")
@_json_option
@_store_options
def inspect(run_id: str, as_json: bool) -> None:
    """Everything about one run (RUN_ID may be a unique prefix of 6+ characters)."""
    run = mltrace.get_component_run_information(run_id)
    if as_json:
        _print_json(run.to_dict())
    else:
        _render.run_details(run)


@main.command()
@click.argument("output_id")
@_json_option
@_store_options
def trace(output_id: str, as_json: bool) -> None:
    """The runs, code and data that produced OUTPUT_ID, as a tree."""
    levels = mltrace.trace(output_id)
    if as_json:
        _print_json([{"level": level, **run.to_dict()} for level, run in levels])
    else:
        _render.trace_tree(output_id, levels)


@main.command()
@click.option("--owner", default="", help="Only components with this owner.")
@click.option("--tag", default="", help="Only components with this tag.")
@_json_option
@_store_options
def components(owner: str, tag: str, as_json: bool) -> None:
    """Components with their owners, descriptions and tags."""
    found = mltrace.get_components(tag=tag, owner=owner)
    if as_json:
        _print_json([component.to_dict() for component in found])
    else:
        _render.components_table(found)


@main.command()
@_json_option
@_store_options
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
@_json_option
@_store_options
def sql(sql: str, as_json: bool) -> None:
    """Run SQL on the configured store (after ingesting pending spans)."""
    result = _state.store().query(sql)
    if as_json:
        _print_json(result.dicts())
    else:
        _render.rows_table(result.columns, result.rows)


@main.command("init-db")
@_store_options
def init_db() -> None:
    """Create otel_traces and mltrace's tables and views (idempotent)."""
    mltrace.init_db()
    click.echo("store ready")


@main.command()
@click.option("--home", default=None, help="Demo store folder (default: a new temp folder).")
def demo(home: str | None) -> None:
    """Run the example pipeline in separate processes and trace its last prediction."""
    from mltrace_otel import _demo

    try:
        sys.exit(_demo.run(home))
    except (RuntimeError, OSError) as error:
        raise click.ClickException(str(error)) from None


if __name__ == "__main__":
    main()
