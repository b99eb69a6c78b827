"""SQL fragments (``queries/grafana/_name.sql``): included by ``{{> grafana/_name}}`` lines of
the query files through the one renderer, each used, none a panel, mistakes loud."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _grafana_store import ROOT, panel_queries

from mltrace_otel import semconv
from mltrace_otel.store import sql

QUERIES = ROOT / "queries"
FRAGMENTS = sorted(QUERIES.rglob("_*.sql"))
QUERY_FILES = sorted(path for path in QUERIES.rglob("*.sql") if not path.name.startswith("_"))
INCLUDE = re.compile(r"^\{\{> ([\w/]+)\}\}", re.MULTILINE)


def fragment_name(path: Path) -> str:
    return path.relative_to(QUERIES).with_suffix("").as_posix()


def test_the_grafana_queries_share_their_walks_through_fragments() -> None:
    assert {fragment_name(path) for path in FRAGMENTS} >= {
        "grafana/_lineage_walk", "grafana/_staleness", "grafana/_impact_walk"}


def test_every_fragment_is_included_by_a_query_file() -> None:
    included = {name for path in QUERY_FILES for name in INCLUDE.findall(path.read_text())}
    for path in FRAGMENTS:
        assert fragment_name(path) in included, f"{path.name}: a fragment no query includes"


def test_an_included_fragment_is_its_body_with_convention_names_and_no_header() -> None:
    rendered = sql.render("WITH\n    subjects AS (SELECT '' AS SpanId),\n"
                          "{{> grafana/_staleness}}\nSELECT 1\n")
    body = (QUERIES / "grafana" / "_staleness.sql").read_text().partition("\n\n")[2]
    assert rendered.startswith("WITH\n    subjects AS (SELECT '' AS SpanId),\n    -- Staleness")
    assert rendered.endswith("        GROUP BY RunId\n    )\nSELECT 1\n")
    assert rendered.count("\n") == 3 + body.count("\n")
    assert "-- Fragment" not in rendered and "{{" not in rendered
    assert f"Attributes['{semconv.RUN_STALENESS_THRESHOLD}']" in rendered


def test_text_after_the_placeholder_continues_the_fragments_last_line() -> None:
    rendered = sql.render("{{> grafana/_lineage_walk}},\n    more AS (SELECT 1)\nSELECT 1\n")
    assert rendered.startswith("WITH RECURSIVE\n")
    assert "        GROUP BY Run\n    ),\n    more AS (SELECT 1)\nSELECT 1\n" in rendered


def test_no_panel_sends_a_fragment_header_or_placeholder() -> None:
    queries = list(panel_queries())
    assert queries
    for query in queries:
        assert "-- Fragment" not in query.raw_sql, f"{query.dashboard} / {query.where}"
        assert "{{>" not in query.raw_sql, f"{query.dashboard} / {query.where}"


def test_a_placeholder_that_names_no_file_fails_loudly() -> None:
    with pytest.raises(FileNotFoundError, match="grafana/_no_such_fragment"):
        sql.render("WITH\n{{> grafana/_no_such_fragment}}\nSELECT 1\n")


def test_a_query_file_cannot_be_included_as_a_fragment() -> None:
    assert (QUERIES / "grafana" / "trace_lineage.sql").is_file()
    with pytest.raises(ValueError, match="only a _fragment"):
        sql.render("{{> grafana/trace_lineage}}\n")


def test_a_placeholder_inside_a_line_fails_loudly() -> None:
    with pytest.raises(ValueError, match="does not start a line"):
        sql.render("SELECT * FROM ({{> grafana/_impact_walk}})\n")
