"""The drop-in list of issue 8, each as behaviour: what the original accepted works here, and
what mltrace-otel adds (continuation spans, the tie rule) agrees with SPEC 3.3."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from _support import run_script, write_script

import mltrace_otel as mltrace
from mltrace_otel import semconv
from mltrace_otel.sdk import run as run_module

T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


def explicit(component: str, inputs: list[str], outputs: list[str], start: datetime,
             end: datetime | None = None, **options: bool) -> str:
    run = mltrace.ComponentRun(component, start, end or start + timedelta(seconds=1))
    run.add_inputs(inputs)
    run.add_outputs(outputs)
    mltrace.log_component_run(run, **options)
    assert run.id is not None
    return run.id


@pytest.mark.parametrize("value", ["2026-01-01", b"1700000000", [1]])
def test_a_timestamp_that_is_not_a_datetime_or_number_raises_type_error(value: object) -> None:
    run = mltrace.ComponentRun("c")
    with pytest.raises(TypeError, match="datetime"):
        run.set_start_timestamp(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="datetime"):
        run.set_end_timestamp(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mltrace.ComponentRun("c", start_timestamp=value)  # type: ignore[arg-type]


def test_empty_pointer_names_are_skipped_with_a_warning_and_the_run_is_kept(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @mltrace.Component("train").run(input_vars=["filename", "dev_model"], output_vars=["model"])
    def train(filename: str, dev_model: str = "") -> str:
        model = "model.joblib"
        return model

    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
        assert train("features.csv") == "model.joblib"
        explicit_run = mltrace.ComponentRun("explicit", T0, T0)
        explicit_run.add_input("")
        explicit_run.add_inputs(["", "a.csv"])
        mltrace.log_component_run(explicit_run)
    assert "dev_model is an empty pointer name" in caplog.text
    (logged,) = mltrace.get_history("train")
    assert (logged.status, logged.inputs) == ("OK", ["features.csv"])
    assert mltrace.get_history("explicit")[0].inputs == ["a.csv"]


class Unpicklable:
    def __reduce__(self) -> tuple:
        raise TypeError("cannot pickle Unpicklable")


def test_an_unpicklable_value_is_a_pointer_without_content_and_the_run_is_kept(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @mltrace.Component("fit").run(output_vars=["model"], auto_log=True)
    def fit(data: list[int]) -> Unpicklable:
        model = Unpicklable()
        handle_model = Unpicklable()  # noqa: F841 (auto_log: "model" in the name)
        return model

    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
        model = fit([1, 2, 3])
    (logged,) = mltrace.get_history("fit")
    assert logged.status == "OK"
    expected = f"object:{Unpicklable.__module__}.Unpicklable@"
    assert any(name.startswith(expected) and name.endswith(f":{id(model):x}")
               for name in logged.outputs)
    assert len(logged.outputs) == 2
    assert "without content" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):
        fit([4, 5, 6])  # the same variables and types again: no second warning
    assert "without content" not in caplog.text
    assert len(mltrace.get_history("fit")) == 2
    pointer = mltrace.IOPointer("weights", value=Unpicklable())
    assert pointer.version == ""


def test_set_db_uri_test_is_a_fresh_embedded_store_removed_at_exit(home: Path) -> None:
    script = write_script(home, "uses_test_db.py", """
        import os
        import mltrace_otel as mltrace
        mltrace.set_db_uri("test")
        uri = mltrace.get_db_uri()
        assert uri.startswith("local://"), uri
        run = mltrace.ComponentRun("t")
        run.set_start_timestamp(); run.add_output("o"); run.set_end_timestamp()
        mltrace.log_component_run(run)
        assert [r.outputs for r in mltrace.get_history("t")] == [["o"]]
        print(uri[len("local://"):])
    """)
    folder = Path(run_script(script, home).stdout.strip().splitlines()[-1])
    assert folder.name.startswith("mltrace-test-")
    assert not folder.exists()


def test_get_db_uri_never_shows_a_password(home: Path) -> None:
    assert mltrace.get_db_uri() == f"local://{home}"
    mltrace.set_db_uri("http://user:s3cret@127.0.0.1:1/db")
    try:
        uri = mltrace.get_db_uri()
        assert "s3cret" not in uri and "127.0.0.1:1/db" in uri
    finally:
        mltrace.configure(backend="local", home=home)


def test_get_history_limit_none_and_open_date_bounds(home: Path) -> None:
    for minute in range(12):
        explicit("hist", [], [f"h{minute}"], T0 + timedelta(minutes=minute))
    assert len(mltrace.get_history("hist")) == 10
    every = mltrace.get_history("hist", limit=None)
    assert [run.outputs for run in every] == [[f"h{m}"] for m in range(11, -1, -1)]
    bounded = mltrace.get_history("hist", None, datetime.min, datetime.max)
    assert len(bounded) == 12
    window = mltrace.get_history("hist", None, T0 + timedelta(minutes=3),
                                 T0 + timedelta(minutes=5))
    assert [run.outputs for run in window] == [["h5"], ["h4"], ["h3"]]


def test_recent_run_ids_page_with_last_run_id(home: Path) -> None:
    ids = [explicit("page", [], [f"p{m}"], T0 + timedelta(minutes=m)) for m in range(6)]
    newest_first = ids[::-1]
    assert mltrace.get_recent_run_ids() == newest_first[:5]
    assert mltrace.get_recent_run_ids(2, newest_first[1]) == newest_first[2:4]


def test_paging_visits_every_run_once_when_starts_tie(home: Path) -> None:
    """Runs that started at the same moment (or in the same microsecond, stored apart in
    nanoseconds) page in the listing's own order: each once, then an empty page."""
    ids = [explicit("tied", [], [f"t{m}"], T0) for m in range(3)]
    ids.append(explicit("later", [], ["l"], T0 + timedelta(minutes=1)))
    for nanos in (256, 768):  # the same microsecond, the same run record but the start
        run = mltrace.ComponentRun("close", T0 + timedelta(minutes=2))
        run.start_ns += nanos  # type: ignore[operator]
        run.set_end_timestamp(T0 + timedelta(minutes=3))
        run.add_output(f"c{nanos}")
        mltrace.log_component_run(run)
        ids.append(run.id)
    everything = mltrace.get_recent_run_ids(limit=None)
    assert sorted(everything) == sorted(ids)
    for size in (1, 2, 3):
        pages, last = [], None
        while page := mltrace.get_recent_run_ids(size, last):
            pages += page
            last = page[-1]
            assert len(pages) <= len(ids)
        assert pages == everything


def test_a_runs_own_start_timestamp_bounds_its_history(home: Path) -> None:
    """Starts are stored in nanoseconds, given back in microseconds: bounds compare there."""
    run = mltrace.ComponentRun("precise", T0)
    run.start_ns += 999  # type: ignore[operator]  # rounding would give the next microsecond
    run.set_end_timestamp(T0 + timedelta(minutes=1))
    mltrace.log_component_run(run)
    (found,) = mltrace.get_history("precise")
    start = found.start_timestamp
    assert run.start_timestamp == start  # the pipeline's object and the query's agree
    assert [r.id for r in mltrace.get_history("precise", 10, start, start)] == [run.id]
    assert len(mltrace.get_history("precise", limit=2**64)) == 1
    assert mltrace.get_recent_run_ids(limit=2**64) == [run.id]
    far = [datetime.max.replace(tzinfo=timezone.utc), datetime(9999, 12, 31), datetime(2300, 1, 1)]
    for upper in far:
        assert len(mltrace.get_history("precise", date_upper=upper)) == 1
    assert len(mltrace.get_history("precise", date_lower=datetime.min.replace(tzinfo=timezone.utc),
                                   date_upper=datetime(1800, 1, 1))) == 0
    assert mltrace.get_history("precise", date_lower=datetime(2300, 1, 1)) == []


def test_spec_and_mltrace_keyword_names_both_work(home: Path) -> None:
    explicit("named", [], ["named.csv"], T0)
    mltrace.create_component("named", "a component", "me")
    assert mltrace.get_component_information(name="named").owner == "me"
    assert mltrace.get_component_information(component_name="named").owner == "me"
    assert mltrace.flag_output_id(id="named.csv") is True
    assert mltrace.unflag_output_id(output_id="named.csv") is False
    assert mltrace.flag_output_id(output_id="named.csv") is True
    assert mltrace.unflag_output_id(id="named.csv") is False
    with pytest.raises(TypeError):
        mltrace.flag_output_id("named.csv", output_id="named.csv")
    with pytest.raises(mltrace.NotFoundError):
        mltrace.get_component_information("")


def test_web_trace_is_mltraces_ui_tree(home: Path) -> None:
    first = explicit("ingest", ["raw.csv"], ["clean.csv"], T0)
    second = explicit("train", ["clean.csv"], ["model.pkl"], T0 + timedelta(minutes=1))
    (tree,) = mltrace.web_trace("model.pkl")
    assert tree["id"] == f"componentrun_{second}" and tree["label"] == "train"
    assert (tree["hasCaret"], tree["isExpanded"], tree["stale"]) == (True, True, [])
    output, dependency = tree["childNodes"]
    assert output == {"id": "iopointer_model.pkl", "label": "model.pkl", "hasCaret": False,
                      "parent": f"componentrun_{second}", "icon": "function"}
    assert dependency["id"] == f"componentrun_{first}"
    assert dependency["childNodes"][0]["icon"] == "database"
    with pytest.raises(RuntimeError):
        mltrace.web_trace("unknown-output")


def test_get_io_pointer(home: Path) -> None:
    explicit("writer", [], ["known.csv"], T0)
    pointer = mltrace.get_io_pointer("known.csv", create=False)
    assert (pointer.name, str(pointer.pointer_type)) == ("known.csv", "DATA")
    assert mltrace.get_io_pointer("new.csv", [1, 2]).version != ""
    with pytest.raises(RuntimeError, match="does not exist"):
        mltrace.get_io_pointer("never-seen", create=False)


def test_clean_db_empties_the_store_and_logging_goes_on(home: Path) -> None:
    explicit("before", ["a"], ["b"], T0)
    mltrace.create_component("before", "d", "o", ["t"])
    mltrace.flag_output_id("b")
    mltrace.clean_db()
    assert mltrace.get_recent_run_ids() == []
    assert mltrace.get_components() == [] and mltrace.get_tags() == []
    assert mltrace.review_flagged_outputs()[0] == []
    explicit("after", ["b"], ["c"], T0 + timedelta(minutes=1))
    ((level, run),) = mltrace.backtrace("c")
    assert (level, run.component_name, run.dependencies) == (0, "after", [])


def test_to_dictionary_on_explicit_and_queried_runs(home: Path) -> None:
    run = mltrace.ComponentRun("dict", T0, T0 + timedelta(seconds=2), ["in.csv"], ["out.csv"],
                               "abc123", b"def f(): pass", None, ["upstream"])
    expected_keys = {"component_name", "start_timestamp", "end_timestamp", "inputs", "outputs",
                     "git_hash", "code_snapshot", "id", "dependencies"}
    data = run.to_dictionary()
    assert expected_keys <= set(data)
    assert (data["start_timestamp"], data["git_hash"], data["code_snapshot"]) == (
        T0, "abc123", "def f(): pass")
    assert [p.name for p in data["inputs"]] == ["in.csv"] and data["dependencies"] == ["upstream"]
    mltrace.log_component_run(run)
    queried = mltrace.get_component_run_information(run.id).to_dictionary()
    assert expected_keys <= set(queried)
    assert (queried["id"], queried["outputs"], queried["start_timestamp"]) == (
        run.id, ["out.csv"], T0)


def test_log_component_run_takes_a_staleness_threshold(home: Path) -> None:
    explicit("old", [], ["old.csv"], T0 - timedelta(hours=2))
    run = mltrace.ComponentRun("new", T0, T0)
    run.add_input("old.csv")
    mltrace.log_component_run(run, True, 3600)
    (logged,) = mltrace.get_history("new")
    assert logged.staleness_threshold == 3600
    assert logged.stale == [f"old (ID {logged.dependencies[0]}) was run 0 days ago."]


def test_add_output_per_record_is_linear(home: Path) -> None:
    names = [f"record-{index}" for index in range(100_000)]
    run = mltrace.ComponentRun("records")
    started = time.perf_counter()
    for name in names:
        run.add_output(name)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"100,000 add_output() calls took {elapsed:.2f} s"
    run.add_output(names[0])
    assert len(run.outputs) == 100_000


def test_two_runs_tied_on_start_and_end_the_later_logged_is_the_dependency(home: Path) -> None:
    first = explicit("writer_a", [], ["shared.csv"], T0, T0 + timedelta(seconds=5))
    second = explicit("writer_b", [], ["shared.csv"], T0, T0 + timedelta(seconds=5))
    linked = explicit("reader", ["shared.csv"], ["r.csv"], T0 + timedelta(minutes=1))
    derived = explicit("reader_no_links", ["shared.csv"], ["r2.csv"],
                       T0 + timedelta(minutes=1), set_dependencies_from_inputs=False)
    row = mltrace.query("SELECT Links.SpanId FROM otel_traces WHERE SpanId = {id:String}",
                        {"id": linked})
    assert row == [([second],)]  # the span link names the later-logged writer
    assert mltrace.get_component_run_information(linked).dependencies == [second]
    assert mltrace.get_component_run_information(derived).dependencies == [second]
    assert [run.id for _, run in mltrace.backtrace("shared.csv")] == [second]
    assert first != second


def test_a_run_with_a_million_outputs_logs_and_traces(home: Path) -> None:
    """The pointers travel in continuation spans of at most SPAN_POINTER_BYTES each; every
    output traces to the run, and through it to the run that wrote its input."""
    train = explicit("train", ["features.parquet"], ["model.pkl"], T0)
    predictions = [f"p{index:07d}" for index in range(1_000_000)]
    run = mltrace.ComponentRun("predict", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    run.add_input("model.pkl")
    run.add_outputs(predictions)
    mltrace.log_component_run(run)
    assert mltrace.flush()

    spans = mltrace.query(
        "SELECT SpanAttributes[{outputs:String}] AS o FROM otel_traces "
        "WHERE SpanId = {id:String} OR ParentSpanId = {id:String}",
        {"outputs": semconv.RUN_OUTPUTS, "id": run.id},
    )
    assert len(spans) > 1
    assert max(len(o) for (o,) in spans) <= run_module.SPAN_POINTER_BYTES < 4 << 20
    count = mltrace.query(
        "SELECT count() FROM mltrace_io WHERE SpanId = {id:String} AND Direction = 'output'",
        {"id": run.id},
    )
    assert count == [(1_000_000,)]
    for output in (predictions[0], predictions[500_000], predictions[-1]):
        trace = [(level, item.id) for level, item in mltrace.backtrace(output)]
        assert trace == [(0, run.id), (1, train)]
    assert mltrace.get_history("predict")[0].id == run.id  # one run, not one per span
    reader = explicit("audit", [predictions[-1]], ["audit.txt"], T0 + timedelta(minutes=3),
                      set_dependencies_from_inputs=False)
    assert [item.id for _, item in mltrace.backtrace("audit.txt")] == [reader, run.id, train]
