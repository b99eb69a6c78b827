"""``mltrace sql`` is read-only unless ``--write`` (SPEC 3.5): no writes, no DDL, no reading
or writing files; each refusal is one clear line and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _support import release_store


@pytest.mark.parametrize("statement", [
    "DROP TABLE mltrace_runs",
    "INSERT INTO mltrace_flags (OutputId, Flagged) VALUES ('x', 1)",
    "ALTER TABLE mltrace_runs DELETE WHERE 1",
    "CREATE TABLE t (a String) ENGINE = Memory",
    "SELECT * FROM file('/etc/hostname')",
    "SELECT file('/etc/hostname')",
    "SET readonly = 0",
    "SELECT 1 SETTINGS readonly = 0",
])
def test_sql_refuses_changes_and_files_by_default(home: Path, run_cli, statement: str) -> None:
    shown = run_cli("sql", statement)
    assert shown.returncode == 1, shown.stdout
    lines = shown.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), shown.stderr
    assert "--write" in lines[0] or "readonly" in lines[0], lines[0]


def test_reads_work_and_nothing_was_changed(home: Path, run_cli) -> None:
    run_cli("sql", "DROP TABLE mltrace_runs")
    assert run_cli("sql", "SELECT count() FROM mltrace_runs", check=True).returncode == 0
    assert "mltrace_runs" in run_cli("sql", "SHOW TABLES", check=True).stdout


def test_into_outfile_writes_nothing(home: Path, tmp_path: Path, run_cli) -> None:
    target = tmp_path / "out.csv"
    shown = run_cli("sql", f"SELECT 1 INTO OUTFILE '{target}'")
    assert shown.returncode == 1
    assert "INTO OUTFILE" in shown.stderr
    assert not target.exists()


def test_write_allows_deliberate_changes(home: Path, run_cli) -> None:
    run_cli("sql", "--write",
            "INSERT INTO mltrace_flags (OutputId, Flagged) VALUES ('by-hand.csv', 1)", check=True)
    shown = run_cli("sql", "--json", "SELECT OutputId FROM mltrace_flags", check=True)
    assert "by-hand.csv" in shown.stdout


def test_read_only_through_mltrace_serve(home: Path, run_cli) -> None:
    """A CLI next to ``mltrace serve`` queries through it: the same refusals hold there."""
    from _serve import serve_process

    release_store()
    with serve_process(home, otlp=False):
        for statement in ("DROP TABLE mltrace_runs", "SELECT file('/etc/hostname')",
                          "SELECT * FROM file('/etc/hostname')"):
            shown = run_cli("sql", statement)
            assert shown.returncode == 1, shown.stdout
            assert "--write" in shown.stderr, shown.stderr
        assert run_cli("init-db", "--check", check=True).stdout.strip().endswith("no drift")


def test_a_syntax_error_reads_as_the_users_own_query(home: Path, run_cli) -> None:
    """The read-only check formats the SQL first; its error must not show that wrapper."""
    from _serve import serve_process

    for shown in (run_cli("sql", "SELEC 1"), run_cli("sql", "SELECT 'it''s' FRO x")):
        assert shown.returncode == 1
        assert "SYNTAX_ERROR" in shown.stderr and "formatQuery" not in shown.stderr, shown.stderr
    release_store()
    with serve_process(home, otlp=False):
        shown = run_cli("sql", "SELEC 1")
    assert shown.returncode == 1
    assert "SYNTAX_ERROR" in shown.stderr and "formatQuery" not in shown.stderr, shown.stderr


@pytest.mark.parametrize("statement", ["", "  \n"])
def test_empty_sql_is_a_usage_error(home: Path, run_cli, statement: str) -> None:
    shown = run_cli("sql", statement)
    assert shown.returncode == 2
    assert shown.stderr.strip() == "Error: SQL is empty (see 'mltrace sql --help')"


def test_read_only_sql_of_several_lines_tabs_and_backslashes(home: Path, run_cli) -> None:
    """The read-only check binds the SQL as a parameter like any other value."""
    shown = run_cli("sql", "--json", "SELECT 1\n\tAS x,\n'a\\\\b' AS y", check=True)
    assert json.loads(shown.stdout) == [{"x": 1, "y": "a\\b"}]
