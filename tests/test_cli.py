"""The ``mltrace`` command line (SPEC 3.5), run as a real subprocess."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mltrace_otel as mltrace

T0 = datetime(2024, 6, 1, 9, 0, tzinfo=timezone.utc)


def log(component: str, minute: int, inputs=(), outputs=()) -> None:
    run = mltrace.ComponentRun(component)
    run.set_start_timestamp(T0 + timedelta(minutes=minute))
    run.set_end_timestamp(T0 + timedelta(minutes=minute, seconds=30))
    run.add_inputs(list(inputs))
    run.add_outputs(list(outputs))
    run.git_hash = "feedface" * 5
    run.notes = "cli test"
    mltrace.log_component_run(run)


@pytest.fixture
def pipeline(home: Path) -> dict[str, str]:
    """ingest -> clean -> train, plus two component definitions; returns run ids by name."""
    mltrace.create_component("ingest", "reads raw data", "alice", tags=["etl", "daily"])
    mltrace.create_component("train", "fits the model", "bob", tags=["ml"])
    log("ingest", 0, ["s3://raw"], ["raw.csv"])
    log("clean", 1, ["raw.csv"], ["clean.csv"])
    log("train", 2, ["clean.csv"], ["model.pkl"])
    ids = {run.component_name: run.id for run in map(only, ["ingest", "clean", "train"])}
    return ids


def only(component: str) -> mltrace.Run:
    (run,) = mltrace.get_history(component)
    return run


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr


def test_recent_json_and_table(pipeline: dict[str, str], run_cli) -> None:
    recent = json.loads(run_cli("recent", "--json", check=True).stdout)
    assert [run["component_name"] for run in recent] == ["train", "clean", "ingest"]
    assert recent[0]["id"] == pipeline["train"]
    assert recent[0]["start_timestamp"] == (T0 + timedelta(minutes=2)).isoformat()
    assert recent[0]["dependencies"] == [pipeline["clean"]]
    limited = json.loads(run_cli("recent", "--limit", "1", "--json", check=True).stdout)
    assert [run["id"] for run in limited] == [pipeline["train"]]
    table = run_cli("recent", check=True).stdout
    for name, run_id in pipeline.items():
        assert name in table and run_id in table


def test_history_json(pipeline: dict[str, str], run_cli) -> None:
    log("clean", 5, ["raw.csv"], ["clean.csv"])
    shown = json.loads(run_cli("history", "clean", "--json", check=True).stdout)
    assert [run["component_name"] for run in shown] == ["clean", "clean"]
    assert shown[1]["id"] == pipeline["clean"]
    assert shown[0]["start_timestamp"] > shown[1]["start_timestamp"]
    one = json.loads(run_cli("history", "clean", "--limit", "1", "--json", check=True).stdout)
    assert [run["id"] for run in one] == [shown[0]["id"]]
    nobody = run_cli("history", "nobody", "--json", check=True)
    assert json.loads(nobody.stdout) == []


def test_inspect_by_id_and_prefix(pipeline: dict[str, str], run_cli) -> None:
    run_id = pipeline["clean"]
    full = json.loads(run_cli("inspect", run_id, "--json", check=True).stdout)
    assert full["id"] == run_id
    assert full["component_name"] == "clean"
    assert full["inputs"] == ["raw.csv"] and full["outputs"] == ["clean.csv"]
    assert full["git_hash"] == "feedface" * 5
    assert full["notes"] == "cli test"
    assert full["dependencies"] == [pipeline["ingest"]]
    assert full["status"] == "OK"
    by_prefix = json.loads(run_cli("inspect", run_id[:6], "--json", check=True).stdout)
    assert by_prefix == full
    human = run_cli("inspect", run_id[:8], check=True).stdout
    assert run_id in human and "clean.csv" in human and "feedface" in human


def test_trace_tree_and_json(pipeline: dict[str, str], run_cli) -> None:
    tree = run_cli("trace", "model.pkl", check=True).stdout
    order = [
        tree.index(f"[{level}] {name}") for level, name in enumerate(["train", "clean", "ingest"])
    ]
    assert order == sorted(order)
    for run_id in pipeline.values():
        assert run_id in tree
    assert "2024-06-01 09:02:00" in tree  # start time
    assert "feedface" in tree  # git hash
    levels = json.loads(run_cli("trace", "model.pkl", "--json", check=True).stdout)
    assert [(item["level"], item["id"]) for item in levels] == [
        (0, pipeline["train"]),
        (1, pipeline["clean"]),
        (2, pipeline["ingest"]),
    ]


def test_components_and_tags(pipeline: dict[str, str], run_cli) -> None:
    found = json.loads(run_cli("components", "--json", check=True).stdout)
    by_name = {item["name"]: item for item in found}
    assert set(by_name) == {"ingest", "clean", "train"}
    assert by_name["ingest"]["owner"] == "alice"
    assert by_name["ingest"]["description"] == "reads raw data"
    assert sorted(by_name["ingest"]["tags"]) == ["daily", "etl"]
    tagged = json.loads(run_cli("components", "--tag", "ml", "--json", check=True).stdout)
    assert [item["name"] for item in tagged] == ["train"]
    owned = json.loads(run_cli("components", "--owner", "alice", "--json", check=True).stdout)
    assert [item["name"] for item in owned] == ["ingest"]
    assert json.loads(run_cli("tags", "--json", check=True).stdout) == ["daily", "etl", "ml"]
    assert run_cli("tags", check=True).stdout.split() == ["daily", "etl", "ml"]


def test_sql_json(pipeline: dict[str, str], run_cli) -> None:
    rows = json.loads(
        run_cli(
            "sql",
            "SELECT Component, length(Outputs) AS n FROM mltrace_runs ORDER BY StartTime",
            "--json",
            check=True,
        ).stdout
    )
    assert rows == [
        {"Component": "ingest", "n": 1},
        {"Component": "clean", "n": 1},
        {"Component": "train", "n": 1},
    ]
    table = run_cli("sql", "SELECT 40 + 2 AS answer", check=True).stdout
    assert "answer" in table and "42" in table


def test_sql_write_of_ddl_prints_nothing(home: Path, run_cli) -> None:
    created = run_cli("sql", "--write", "CREATE TABLE scratch (x UInt8) ENGINE = Memory",
                      check=True)
    assert (created.stdout, created.stderr) == ("", "")
    inserted = run_cli("sql", "--write", "INSERT INTO scratch VALUES (1)", check=True)
    assert inserted.stdout == ""


def test_sql_sees_runs_still_in_the_spool(home: Path, tmp_path: Path, run_cli) -> None:
    from _support import run_script, write_script

    script = write_script(
        tmp_path,
        "one.py",
        """
        import mltrace_otel as mltrace

        @mltrace.Component("spooled").run
        def step():
            return 1

        step()
        """,
    )
    run_script(script, home)
    assert list((home / "spool").glob("*.arrow"))
    counted = run_cli("sql", "SELECT count() AS n FROM mltrace_runs", "--json", check=True)
    assert json.loads(counted.stdout) == [{"n": 1}]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["trace", "no-such-output"], "no-such-output"),
        (["inspect", "0123456789abcdef"], "0123456789abcdef"),
        (["inspect", "abc"], "abc"),
        (["sql", "SELEC broken FROM nowhere"], ""),
        (["sql", "SELECT * FROM no_such_table"], "no_such_table"),
    ],
    ids=["unknown-output", "unknown-run", "short-prefix", "syntax-error", "unknown-table"],
)
def test_errors_are_one_clear_line(pipeline, run_cli, args: list[str], needle: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode != 0
    no_traceback(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error")
    assert needle in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["recent", "--url", "http://127.0.0.1:1"],
        ["trace", "x", "--url", "http://127.0.0.1:1", "--json"],
        ["sql", "SELECT 1", "--url", "http://127.0.0.1:1"],
        ["history", "c", "--address", "127.0.0.1:1"],
    ],
    ids=["recent", "trace", "sql", "address"],
)
def test_unreachable_server_is_one_clear_line(home: Path, run_cli, args: list[str]) -> None:
    proc = run_cli(*args)
    assert proc.returncode != 0
    no_traceback(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "127.0.0.1:1" in lines[0]
    assert "1:8123" not in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["history"], "Missing argument 'NAME'. (see 'mltrace history --help')"),
        (["unflag"], "give either OUTPUT_ID or --all (see 'mltrace unflag --help')"),
        (["recent", "--limit", "-1"], "-1 is not in the range x>=1"),
        (["review", "--limit", "0"], "0 is not in the range x>=1"),
        (["no-such-command"], "No such command 'no-such-command'. (see 'mltrace --help')"),
        (["serve", "--port", "99999"], "99999 is not in the range 0<=x<=65535"),
        (["serve", "--otlp-port", "-5"], "-5 is not in the range 0<=x<=65535"),
        (["recent", "--url", "http://127.0.0.1:1", "--address", "127.0.0.1"],
         "give either --url or --address, not both (see 'mltrace recent --help')"),
    ],
    ids=["missing-argument", "neither-id-nor-all", "negative-limit", "zero-limit", "unknown",
         "port", "otlp-port", "url-and-address"],
)
def test_usage_errors_are_one_line_with_exit_code_2(home: Path, run_cli, args: list[str],
                                                    needle: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr  # no usage block
    assert proc.stderr.startswith("Error: ") and needle in proc.stderr
    assert proc.stdout == ""


def test_bare_mltrace_prints_the_help(home: Path, run_cli) -> None:
    proc = run_cli()
    assert "Commands:" in proc.stdout + proc.stderr and "Error" not in proc.stderr


def test_version_and_help(run_cli) -> None:
    assert mltrace.__version__ in run_cli("--version", check=True).stdout
    helped = run_cli("--help", check=True).stdout
    for command in ("recent", "history", "inspect", "trace", "components", "tags", "sql"):
        assert command in helped


def test_brackets_in_names_are_printed_verbatim(home: Path, run_cli) -> None:
    """Component and pointer names are user text, never rich markup."""
    run = mltrace.ComponentRun("stage[bold]x[/bold]")
    run.set_start_timestamp()
    run.add_input("in[red].csv")
    run.add_output("[JIRA-12] out.csv")
    run.set_end_timestamp()
    mltrace.log_component_run(run)
    mltrace.flush()
    shown = run_cli("trace", "[JIRA-12] out.csv")
    assert shown.returncode == 0, shown.stderr
    for text in ("stage[bold]x[/bold]", "in[red].csv", "[JIRA-12] out.csv"):
        assert text in shown.stdout


def test_a_server_url_without_a_backend_is_pointed_out(home: Path, run_cli) -> None:
    """MLTRACE_CLICKHOUSE_URL alone leaves the default backend, local: one line says so
    (without the URL's password) instead of answering silently from an empty store."""
    from _serve import serve_process

    url = "http://u:s3cret@127.0.0.1:1/db"
    shown = run_cli("recent", "--json", MLTRACE_CLICKHOUSE_URL=url)
    assert shown.returncode == 0 and json.loads(shown.stdout) == []
    (line,) = shown.stderr.splitlines()
    assert "MLTRACE_BACKEND=clickhouse" in line and "s3cret" not in line
    with serve_process(home, otlp=False):  # the command runs there: the warning stays here
        served = run_cli("recent", "--json", MLTRACE_CLICKHOUSE_URL=url)
    assert served.returncode == 0 and served.stderr.splitlines() == [line]


def test_mltrace_017_cli_forms_unflag_output_id_and_clear(
    pipeline: dict[str, str], run_cli
) -> None:
    run_cli("flag", "model.pkl", check=True)
    assert run_cli("unflag", "--output_id", "model.pkl", check=True).stdout.strip() == (
        "unflagged model.pkl")
    assert mltrace.review_flagged_outputs() == ([], [])
    assert run_cli("unflag", "model.pkl", "--output_id", "model.pkl").returncode == 2
    assert run_cli("clear", check=True).stdout.strip() == "cleared the store"
    assert mltrace.get_recent_run_ids() == []
