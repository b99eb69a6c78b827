"""User values never become SQL (SPEC 5): hostile pointer ids, names and tags are data."""

# ruff: noqa: F841  (decorated functions assign the locals that input_vars/output_vars name)

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mltrace_otel as mltrace

HOSTILE = [
    "x'); DROP TABLE otel_traces; --",
    "'; DROP TABLE mltrace_runs; SELECT '",
    "' OR '1'='1",
    'double"quote"s.csv',
    "back\\slash\\'.csv",
    "tab\tseparated\tid",
    "new\nline\r\nid",
    "semi;colon;",
    "{p:String} and {{COMPONENT_NAME}}",
    "%s %(x)s ?",
    "unicode ✓ 名前 🚀",
    "`backtick`) FORMAT TSV",
    "/* comment */ -- trailing",
]


def log_pair(ids: list[str]) -> None:
    """For each id: one run writes it, a later run reads it and writes ``<id>#derived``."""
    producer = mltrace.Component("producer'; DROP TABLE otel_traces; --", tags=["t'ag", "ok"])
    consumer = mltrace.Component('consumer"\\', owner="o'wner")

    @producer.run(output_vars=["target"])
    def produce(value: str) -> None:
        target = value

    @consumer.run(input_vars=["source"], output_vars=["target"])
    def consume(value: str) -> None:
        source = value
        target = value + "#derived"

    for value in ids:
        produce(value)
        consume(value)


def store_is_intact(expected_runs: int) -> None:
    tables = {row[0] for row in mltrace.query("SHOW TABLES")}
    assert {"otel_traces", "mltrace_runs", "mltrace_io", "mltrace_components"} <= tables
    ((spans,),) = mltrace.query(
        "SELECT count() FROM otel_traces WHERE SpanAttributes[{k:String}] != ''",
        {"k": "mltrace.run.outputs"},
    )
    assert spans == expected_runs
    assert len(mltrace.get_recent_run_ids(limit=10_000)) == expected_runs


def test_hostile_ids_are_logged_traced_and_queried(home: Path) -> None:
    log_pair(HOSTILE)
    store_is_intact(2 * len(HOSTILE))

    for value in HOSTILE:
        levels = mltrace.trace(value + "#derived")
        assert [(level, run.component_name) for level, run in levels] == [
            (0, 'consumer"\\'),
            (1, "producer'; DROP TABLE otel_traces; --"),
        ], value
        consumer, producer = levels[0][1], levels[1][1]
        assert consumer.inputs == [value]
        assert consumer.outputs == [value + "#derived"]
        assert producer.outputs == [value]
        assert consumer.dependencies == [producer.id]

        rows = mltrace.query(
            "SELECT Direction, count() FROM mltrace_io WHERE Pointer = {p:String} "
            "GROUP BY Direction ORDER BY Direction",
            {"p": value},
        )
        assert rows == [("input", 1), ("output", 1)], (value, rows)
        rows = mltrace.query(
            "SELECT Component FROM mltrace_runs WHERE has(Outputs, {p:String})", {"p": value}
        )
        assert rows == [("producer'; DROP TABLE otel_traces; --",)]

    store_is_intact(2 * len(HOSTILE))


def test_hostile_names_in_history_components_and_tags(home: Path) -> None:
    log_pair(HOSTILE[:2])
    history = mltrace.get_history("producer'; DROP TABLE otel_traces; --")
    assert [run.outputs for run in history] == [[HOSTILE[1]], [HOSTILE[0]]]
    assert len(mltrace.get_history('consumer"\\')) == 2
    mltrace.create_component("c'1", "desc'); DROP TABLE x; --", 'own"er', tags=["ta\\g'"])
    info = mltrace.get_component_information("c'1")
    assert (info.description, info.owner, info.tags) == (
        "desc'); DROP TABLE x; --",
        'own"er',
        ["ta\\g'"],
    )
    assert [c.name for c in mltrace.get_components(tag="t'ag")] == [
        "producer'; DROP TABLE otel_traces; --"
    ]
    assert [c.name for c in mltrace.get_components(owner="o'wner")] == ['consumer"\\']
    assert "ta\\g'" in mltrace.get_tags() and "t'ag" in mltrace.get_tags()
    assert mltrace.get_history("' OR '1'='1") == []
    store_is_intact(4)


def test_hostile_unknown_ids_are_not_found(home: Path) -> None:
    log_pair(["plain"])
    for value in HOSTILE:
        with pytest.raises(mltrace.NotFoundError):
            mltrace.trace(value)
    for run_id in ["abcdef' OR '1'='1", "'); DROP TABLE otel_traces; --", "%%%%%%"]:
        with pytest.raises(mltrace.NotFoundError):
            mltrace.get_component_run_information(run_id)
    with pytest.raises(mltrace.NotFoundError):
        mltrace.get_component_information("' OR '1'='1")
    store_is_intact(2)


def test_hostile_ids_through_the_cli(home: Path, run_cli) -> None:
    log_pair(HOSTILE)
    # Each CLI call opens the store (about a second), so a representative few.
    for value in (HOSTILE[0], HOSTILE[4], HOSTILE[6], HOSTILE[8]):
        shown = run_cli("trace", value + "#derived", "--json", check=True)
        levels = json.loads(shown.stdout)
        assert [item["level"] for item in levels] == [0, 1]
        assert levels[0]["inputs"] == [value]
        assert levels[1]["outputs"] == [value]
    tree = run_cli("trace", HOSTILE[0] + "#derived", check=True)
    assert "DROP TABLE otel_traces" in tree.stdout

    history = run_cli("history", 'consumer"\\', "--limit", "100", "--json", check=True)
    assert len(json.loads(history.stdout)) == len(HOSTILE)
    missing = run_cli("trace", "'); DROP TABLE otel_traces; --missing")
    assert missing.returncode != 0
    assert "Traceback" not in missing.stderr + missing.stdout
    counted = run_cli(
        "sql", "SELECT count() AS n FROM otel_traces WHERE SpanName != ''", "--json", check=True
    )
    assert json.loads(counted.stdout) == [{"n": 2 * len(HOSTILE)}]
    store_is_intact(2 * len(HOSTILE))
