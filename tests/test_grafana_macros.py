"""The expander the dashboard tests use follows the plugin's and Grafana's documented
semantics: the macro table of the grafana-clickhouse-datasource README (examples for
2014-11-12T11:45:26.123Z to 2015-11-12T11:45:26.456Z, interval 20 s), and Grafana's variable
syntaxes and formats (its format registry; examples of "Advanced variable format options")."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone

import pytest
from _grafana_macros import Request, expand, interpolate

DOCUMENTED = Request(
    time_from=datetime(2014, 11, 12, 11, 45, 26, 123000, tzinfo=timezone.utc),
    time_to=datetime(2015, 11, 12, 11, 45, 26, 456000, tzinfo=timezone.utc),
    interval=timedelta(seconds=20),
)


@pytest.mark.parametrize(("macro", "expected"), [
    ("$__timeFilter(time)", "time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)"),
    ("$__timeFilter_ms(time)", "time >= fromUnixTimestamp64Milli(1415792726123) AND "
                               "time <= fromUnixTimestamp64Milli(1447328726456)"),
    ("$__dateFilter(date)", "date >= toDate('2014-11-12') AND date <= toDate('2015-11-12')"),
    ("$__fromTime", "toDateTime(1415792726)"),
    ("$__toTime", "toDateTime(1447328726)"),
    ("$__fromTime_ms", "fromUnixTimestamp64Milli(1415792726123)"),
    ("$__toTime_ms", "fromUnixTimestamp64Milli(1447328726456)"),
    ("$__interval_s", "20"),
    ("$__timeInterval(column)", "toStartOfInterval(toDateTime(column), INTERVAL 20 second)"),
])
def test_plugin_readme_macro_examples(macro: str, expected: str) -> None:
    assert expand(macro, DOCUMENTED) == expected


def test_time_interval_ms_and_the_one_second_floor() -> None:
    fine = Request(DOCUMENTED.time_from, DOCUMENTED.time_to, timedelta(milliseconds=20))
    assert expand("$__timeInterval_ms(column)", fine) == (
        "toStartOfInterval(toDateTime64(column, 3), INTERVAL 20 millisecond)")
    assert expand("$__interval_s", fine) == "1"
    assert expand("$__timeInterval(c)", fine) == (
        "toStartOfInterval(toDateTime(c), INTERVAL 1 second)")


def test_macros_in_a_query() -> None:
    sql = "SELECT $__timeInterval(t) AS time FROM x WHERE $__timeFilter(t) AND y > $__fromTime"
    assert expand(sql, DOCUMENTED) == (
        "SELECT toStartOfInterval(toDateTime(t), INTERVAL 20 second) AS time FROM x WHERE "
        "t >= toDateTime(1415792726) AND t <= toDateTime(1447328726) AND "
        "y > toDateTime(1415792726)")


def test_unknown_macro_and_wrong_arguments_are_errors() -> None:
    with pytest.raises(ValueError):
        expand("$__timeFilterr(t)", DOCUMENTED)
    with pytest.raises(ValueError):
        expand("$__timeFilter", DOCUMENTED)


SERVERS = {"servers": ["test1", "test2"], "quoted": ["test'1", "test2"]}


@pytest.mark.parametrize(("text", "expected"), [
    ("${servers:csv}", "test1,test2"),
    ("${servers:doublequote}", '"test1","test2"'),
    ("${servers:json}", '["test1","test2"]'),
    ("${servers:percentencode}", "%7Btest1%2Ctest2%7D"),
    ("${servers:pipe}", "test1|test2"),
    ("${servers:singlequote}", "'test1','test2'"),
    ("${servers:sqlstring}", "'test1','test2'"),
    ("${quoted:sqlstring}", "'test''1','test2'"),
    ("${quoted:singlequote}", "'test\\'1','test2'"),
])
def test_grafana_format_examples(text: str, expected: str) -> None:
    assert interpolate(text, SERVERS) == expected


def test_syntaxes_and_the_plugin_default_format() -> None:
    values = {"one": "a'b", "many": ["x", "y"]}
    assert interpolate("$one ${one} [[one]]", values) == "a'b a'b a'b"  # verbatim: unsafe
    assert interpolate("$many", values) == "'x','y'"
    assert interpolate("[[many:csv]] ${many:raw}", values) == "x,y x,y"
    assert interpolate("$unknown ${unknown:csv} $__timeFilter(t)", values) == (
        "$unknown ${unknown:csv} $__timeFilter(t)")


def test_percentencode_leaves_only_unreserved_characters() -> None:
    hostile = "x' OR 1=1 --\\\n\"(*)!~é"
    encoded = interpolate("${v:percentencode}", {"v": hostile})
    assert encoded == "x%27%20OR%201%3D1%20--%5C%0A%22%28%2A%29%21~%C3%A9"
    unreserved = set(string.ascii_letters + string.digits + "-_.~%")
    assert set(encoded) <= unreserved
