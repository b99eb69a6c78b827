"""Schema versions (SPEC 5): a store written by an earlier release's DDL is migrated, a newer
one is refused in one line, a current one opens without DDL; ``init-db --check`` reports
drift and ``init-db --rebuild`` recreates dropped tables from ``otel_traces``."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from _explicit_runs import log_run
from _support import release_store, run_script, write_script

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.store import StoreError, schema
from mltrace_otel.store.schema import SCHEMA_VERSION
from mltrace_otel.store.sql import schema_statements

REPO = Path(__file__).resolve().parent.parent

OLD_STORE = """
    import sys
    from pathlib import Path

    from chdb import session

    from mltrace_otel.store.sql import render

    store, ddl_folder = sys.argv[1], Path(sys.argv[2])
    chdb = session.Session(store)
    for path in sorted(ddl_folder.glob("*.sql")):
        chdb.query(render(path.read_text()), "TSV")
    chdb.query(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName,"
        " SpanAttributes, Duration, StatusCode) VALUES (now64(9), 'ab', 'a1b2c3d4e5f60718',"
        " 'train', 'old', map('mltrace.component.name', 'train',"
        " 'mltrace.run.inputs', {inputs:String}, 'mltrace.run.outputs', {outputs:String}),"
        " 1000, 'Ok')", "TSV", params={"inputs": '["raw.csv"]', "outputs": '["model.pkl"]'},
    )
    chdb.close()
"""


def _old_store(home: Path, tmp_path: Path, commit: str) -> None:
    """A store created by the DDL of ``queries/schema/`` at ``commit``, holding one run."""
    ddl = tmp_path / f"ddl-{commit}"
    ddl.mkdir()
    names = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", f"{commit}:queries/schema"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    for name in names:
        text = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{commit}:queries/schema/{name}"],
            capture_output=True, text=True, check=True,
        ).stdout
        (ddl / name).write_text(text)
    release_store()
    run_script(write_script(tmp_path, "old.py", OLD_STORE), home, str(home / "store"), str(ddl))


def _columns(table: str) -> list[str]:
    return [row[0] for row in mltrace.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
        {"t": table},
    )]


def _indexes(table: str) -> list[tuple[str, str]]:
    return mltrace.query(
        "SELECT name, expr FROM system.data_skipping_indices"
        " WHERE database = currentDatabase() AND table = {t:String}",
        {"t": table},
    )


def _setting(table: str, name: str) -> str:
    """A table-level setting as ``engine_full`` shows it."""
    (engine,), = mltrace.query(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase()"
        " AND name = {t:String}", {"t": table},
    )
    return engine.split(f"{name} = ", 1)[1].split(",")[0]


@pytest.mark.parametrize(
    "commit", ["ce09451", "9ed7def", "dbb80d0", "82f2296", "4d97a1b", "ad03539"]
)
def test_a_store_of_an_earlier_release_is_migrated(
    home: Path, tmp_path: Path, run_cli, commit: str
) -> None:
    _old_store(home, tmp_path, commit)  # 9ed7def's run table had no LoggedAt column yet
    (level, run), = mltrace.trace("model.pkl")  # read through the record the migration adds
    assert (level, run.component_name, run.inputs) == (0, "train", ["raw.csv"])
    assert "LoggedAt" in _columns("mltrace_runs")
    (kind,), = mltrace.query(
        "SELECT default_kind FROM system.columns WHERE database = currentDatabase()"
        " AND table = 'mltrace_runs' AND name = 'Record'"
    )
    assert kind == "MATERIALIZED"
    for table in ("mltrace_runs", "mltrace_io"):  # dbb80d0's had no minmax index on LoggedAt
        assert ("logged_at", "LoggedAt") in _indexes(table)
    for table in ("mltrace_runs", "mltrace_io", "mltrace_run_starts"):  # 82f2296's were compact
        assert _setting(table, "min_bytes_for_wide_part") == "10485760"
    assert _setting("mltrace_runs", "index_granularity") == "128"  # 256 until ad03539: rebuilt
    assert _setting("mltrace_runs", "min_compress_block_size") == "4096"
    assert mltrace.query("SELECT table FROM system.dropped_tables") == []
    assert mltrace.query("SELECT max(Version) FROM mltrace_schema") == [(SCHEMA_VERSION,)]
    checked = run_cli("init-db", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no drift" in checked.stdout


def test_a_creation_only_setting_rebuilds_derived_tables_and_refuses_kept_ones(
    home: Path,
) -> None:
    """index_granularity cannot be modified: a derived table with another value is rebuilt
    from otel_traces (its runs still there), a kept table (notes) is refused in one line."""
    log_run("train", 0, ["raw.csv"], ["model.pkl"])
    store = state.store()
    store.command("DROP VIEW mltrace_runs_mv")
    store.command("DROP TABLE mltrace_runs SYNC")
    (ddl,) = [sql for sql in schema_statements() if "TABLE IF NOT EXISTS mltrace_runs " in sql]
    store.command(ddl.replace("index_granularity = 128", "index_granularity = 64"))
    assert _setting("mltrace_runs", "index_granularity") == "64"
    schema.migrate(store, store.expected_layout())
    assert _setting("mltrace_runs", "index_granularity") == "128"
    assert mltrace.query("SELECT table FROM system.dropped_tables") == []  # parts freed now
    assert [run.component_name for run in mltrace.get_history("train")] == ["train"]
    expected = store.expected_layout()
    notes = expected["mltrace_notes"]
    expected["mltrace_notes"] = dataclasses.replace(
        notes, settings=(*notes.settings, ("index_granularity", "64"))
    )
    with pytest.raises(StoreError, match="mltrace_notes was created with index_granularity = "
                                         "8192 and this release expects 64, which ClickHouse"):
        schema.migrate(store, expected)


def test_a_current_store_opens_without_ddl(home: Path) -> None:
    mltrace.get_recent_run_ids()
    store = state.store()
    mtime_sql = "SELECT metadata_modification_time FROM system.tables WHERE name LIKE 'mltrace_%'"
    before = sorted(store.query(mtime_sql).rows)
    store.close()
    assert store.init_db() is False
    assert sorted(store.query(mtime_sql).rows) == before
    assert mltrace.query("SELECT count() FROM mltrace_schema") == [(1,)]


def test_a_newer_store_is_refused_in_one_line(home: Path, run_cli) -> None:
    mltrace.query(
        "INSERT INTO mltrace_schema (Version, Digest, Release) VALUES (99, 'future', '9.9.0')"
    )
    shown = run_cli("recent")
    assert shown.returncode == 1
    lines = shown.stderr.strip().splitlines()
    assert len(lines) == 1, shown.stderr
    assert "schema version 99" in lines[0]
    assert "install mltrace-otel>=9.9.0" in lines[0]


def test_check_reports_drift_and_rebuild_refills_dropped_tables(
    home: Path, tmp_path: Path, run_cli
) -> None:
    _old_store(home, tmp_path, "ce09451")
    run_cli("recent", check=True)  # migrated
    for statement in ("DROP TABLE mltrace_runs", "DROP TABLE mltrace_io",
                      "ALTER TABLE mltrace_components DROP COLUMN Owner"):
        run_cli("sql", "--write", statement, check=True)
    checked = run_cli("init-db", "--check")
    assert checked.returncode == 1
    assert "drift: table mltrace_runs is missing" in checked.stdout
    assert "drift: table mltrace_io is missing" in checked.stdout
    assert "drift: column mltrace_components.Owner (String) is missing" in checked.stdout
    rebuilt = run_cli("init-db", "--rebuild", check=True)
    assert "from 1 span(s)" in rebuilt.stdout
    assert run_cli("init-db", "--check", check=True).stdout.strip().endswith("no drift")
    (_, run), = mltrace.trace("model.pkl")
    assert run.component_name == "train"
    assert mltrace.query("SELECT count() FROM mltrace_io") == [(2,)]


def test_plain_init_db_repairs_drift_and_says_what_it_did(home: Path, run_cli) -> None:
    log_run("train", 0, ["raw.csv"], ["model.pkl"])
    for statement in ("DROP VIEW mltrace_io_mv", "ALTER TABLE mltrace_io DROP INDEX logged_at"):
        run_cli("sql", "--write", statement, check=True)
    repaired = run_cli("init-db", check=True).stdout.splitlines()
    assert sorted(repaired[:2]) == [
        "repaired: index mltrace_io.logged_at (LoggedAt TYPE minmax GRANULARITY 1) is missing",
        "repaired: view mltrace_io_mv is missing",
    ]
    assert repaired[2].startswith("store ready")
    assert "mltrace init-db --rebuild" in repaired[3]
    assert run_cli("init-db", "--check", check=True).stdout.strip().endswith("no drift")
    log_run("score", 1, ["model.pkl"], ["scores.csv"])  # the view writes the pointer index again
    assert [run.component_name for _, run in mltrace.trace("scores.csv")] == ["score", "train"]
    assert run_cli("init-db", check=True).stdout.splitlines() == [
        f"store ready (schema version {SCHEMA_VERSION})"
    ]


@pytest.mark.parametrize(
    ("change", "drift", "restored"),
    [
        ("ALTER TABLE mltrace_io DROP INDEX logged_at",
         "index mltrace_io.logged_at (LoggedAt TYPE minmax GRANULARITY 1) is missing",
         lambda: ("logged_at", "LoggedAt") in _indexes("mltrace_io")),
        ("ALTER TABLE mltrace_runs MODIFY SETTING min_bytes_for_wide_part = 0",
         "setting mltrace_runs.min_bytes_for_wide_part is 0, expected 10485760",
         lambda: _setting("mltrace_runs", "min_bytes_for_wide_part") == "10485760"),
    ],
    ids=["skipping-index", "table-setting"],
)
def test_check_reports_a_changed_table_and_rebuild_restores_it(
    home: Path, run_cli, change: str, drift: str, restored: Callable[[], bool]
) -> None:
    run_cli("recent", check=True)
    run_cli("sql", "--write", change, check=True)
    checked = run_cli("init-db", "--check")
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [f"drift: {drift}"]
    run_cli("init-db", "--rebuild", check=True)
    assert run_cli("init-db", "--check", check=True).stdout.strip().endswith("no drift")
    assert restored()


def test_check_and_rebuild_on_a_server(home: Path, tmp_path: Path, run_cli) -> None:
    """``mltrace serve`` is a ClickHouse server over HTTP: the CLI's store is then the
    server store, and drift is found and repaired through it."""
    from _serve import serve_process

    _old_store(home, tmp_path, "ce09451")
    release_store()
    with serve_process(home, otlp=False) as server:
        url = f"{server.url}/default"
        run_cli("sql", "--write", "DROP TABLE mltrace_io", "--url", url, check=True)
        checked = run_cli("init-db", "--check", "--url", url)
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "drift: table mltrace_io is missing" in checked.stdout
        run_cli("init-db", "--rebuild", "--url", url, check=True)
        assert run_cli("init-db", "--check", "--url", url, check=True).returncode == 0
        shown = run_cli("trace", "model.pkl", "--json", "--url", url, check=True)
        assert '"component_name": "train"' in shown.stdout
