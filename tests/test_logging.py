"""Logging API (SPEC 3.2): decorator, ComponentRun, pointers, helpers, components, git, links."""

# ruff: noqa: F841  (decorated functions assign the locals that input_vars/output_vars name)

from __future__ import annotations

import hashlib
import inspect
import pickle
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from _support import run_script, write_script

import mltrace_otel as mltrace
from mltrace_otel import semconv


def only_run(component: str) -> mltrace.Run:
    runs = mltrace.get_history(component)
    assert len(runs) == 1, runs
    return runs[0]


def span_row(run_id: str, columns: str) -> tuple:
    rows = mltrace.query(
        f"SELECT {columns} FROM otel_traces WHERE SpanId = {{id:String}}", {"id": run_id}
    )
    assert len(rows) == 1, rows
    return rows[0]


# -- the decorator ---------------------------------------------------------------------------


def test_bare_decorator_keeps_return_value_and_logs_one_ok_run(home: Path) -> None:
    component = mltrace.Component("bare", owner="ana", description="no args", tags=["t1"])

    @component.run
    def double(x: int, *, y: int = 0) -> int:
        return 2 * x + y

    assert double(21) == 42
    assert double(1, y=5) == 7
    assert double.__name__ == "double"

    runs = mltrace.get_history("bare")
    assert len(runs) == 2
    for run in runs:
        assert run.component_name == "bare"
        assert run.status == "OK"
        assert run.inputs == [] and run.outputs == []
        assert run.start_timestamp.tzinfo is not None
        assert run.start_timestamp.utcoffset() == timedelta(0)
        assert run.start_timestamp <= run.end_timestamp
        assert len(run.id) == 16 and int(run.id, 16) > 0
        assert len(run.trace_id) == 32


def test_decorator_with_arguments_logs_pointer_names(home: Path) -> None:
    component = mltrace.Component("featurize")

    @component.run(input_vars=["source"], output_vars=["features", "extras"])
    def featurize(source: str) -> dict:
        features = "features.parquet"
        extras = ["stats.json", "schema.json"]
        return {"rows": 3}

    assert featurize("raw.csv") == {"rows": 3}
    run = only_run("featurize")
    assert run.inputs == ["raw.csv"]
    assert run.outputs == ["features.parquet", "stats.json", "schema.json"]
    assert [p.pointer_type for p in run.input_pointers] == ["DATA"]
    assert all(p.version == "" for p in run.output_pointers)


def test_subclassed_component(home: Path) -> None:
    class Featuregen(mltrace.Component):
        def __init__(self) -> None:
            super().__init__("featuregen", owner="team-ml", description="features", tags=["f"])

    @Featuregen().run(output_vars=["out"])
    def make() -> int:
        out = "f.csv"
        return 1

    assert make() == 1
    run = only_run("featuregen")
    assert run.outputs == ["f.csv"]
    info = mltrace.get_component_information("featuregen")
    assert (info.owner, info.description, info.tags) == ("team-ml", "features", ["f"])


def test_exception_is_reraised_and_run_logged_as_error(home: Path) -> None:
    component = mltrace.Component("fails")

    class Boom(Exception):
        pass

    @component.run(input_vars=["path"])
    def fail(path: str) -> None:
        raise Boom("bad data in " + path)

    with pytest.raises(Boom, match=r"bad data in in\.csv") as caught:
        fail("in.csv")
    assert type(caught.value) is Boom

    run = only_run("fails")
    assert run.status == "ERROR"
    assert "bad data in in.csv" in run.status_message
    names, attributes = span_row(run.id, "`Events.Name`, `Events.Attributes`")
    assert "exception" in names
    event = attributes[names.index("exception")]
    assert event["exception.type"].endswith("Boom")
    assert event["exception.message"] == "bad data in in.csv"
    assert "Traceback" in event.get("exception.stacktrace", "")
    (status_code,) = span_row(run.id, "StatusCode")
    assert status_code == "Error"


def test_keyboard_interrupt_is_not_swallowed(home: Path) -> None:
    component = mltrace.Component("interrupted")

    @component.run
    def stop() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stop()
    assert only_run("interrupted").status == "ERROR"


def test_output_var_that_is_not_a_local_raises_value_error(home: Path) -> None:
    component = mltrace.Component("missing_out")

    @component.run(output_vars=["nope"])
    def f() -> int:
        present = "x.csv"
        return 1

    with pytest.raises(ValueError, match="nope"):
        f()


def test_input_var_that_is_not_a_local_raises_value_error(home: Path) -> None:
    component = mltrace.Component("missing_in")

    @component.run(input_vars=["absent"], output_vars=["out"])
    def f() -> int:
        out = "o.csv"
        return 1

    with pytest.raises(ValueError, match="absent"):
        f()


def test_a_missing_variable_error_names_the_keyword_that_named_it(home: Path) -> None:
    component = mltrace.Component("missing_file")

    @component.run(input_filenames=["source"], output_vars=["target"])
    def f() -> None:
        target = "t.csv"

    with pytest.raises(ValueError, match=r"^input_filenames names 'source', which is not a local"):
        f()


def test_register_with_missing_variable_raises_value_error(home: Path) -> None:
    @mltrace.register("reg_missing", input_vars=["inp"], output_vars=["out", "ghost"])
    def f() -> None:
        inp = "a.csv"
        out = "b.csv"

    with pytest.raises(ValueError, match="ghost"):
        f()


def test_register_logs_inputs_and_outputs(home: Path) -> None:
    @mltrace.register("reg_ok", input_vars=["inp"], output_vars=["out"])
    def f(n: int) -> int:
        inp = "a.csv"
        out = f"b{n}.csv"
        return n + 1

    assert f(1) == 2
    run = only_run("reg_ok")
    assert (run.inputs, run.outputs) == (["a.csv"], ["b1.csv"])


def test_non_string_values_are_saved_and_logged_by_content_hash(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_dir = tmp_path / "saved"
    monkeypatch.setenv("SAVE_DIR", str(save_dir))
    component = mltrace.Component("values")
    frame = {"a": [1, 2, 3]}

    @component.run(input_vars=["table"], output_vars=["result", "names"])
    def f(table: dict) -> None:
        result = {"sum": sum(table["a"])}
        names = ("one.csv", "two.csv")

    f(frame)
    run = only_run("values")
    (table_pointer,) = run.input_pointers
    result_pointer = run.output_pointers[0]
    assert run.outputs[1:] == ["one.csv", "two.csv"]
    for pointer, value in ((table_pointer, frame), (result_pointer, {"sum": 6})):
        path = Path(pointer.name)
        assert path.parent == save_dir
        assert path.exists()
        assert pickle.loads(path.read_bytes()) == value
        assert pointer.version == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table_pointer.version != result_pointer.version


def test_non_string_values_default_to_mltrace_home(home: Path) -> None:
    component = mltrace.Component("values_home")

    @component.run(output_vars=["model"])
    def f() -> None:
        model = [1.5, 2.5]  # a list that is not all strings is a value

    f()
    (pointer,) = only_run("values_home").output_pointers
    assert Path(pointer.name).is_relative_to(home)
    assert pickle.loads(Path(pointer.name).read_bytes()) == [1.5, 2.5]
    assert len(pointer.version) == 64


def test_auto_log_saves_data_named_arguments_and_locals(home: Path) -> None:
    component = mltrace.Component("auto")

    @component.run(auto_log=True)
    def f(train_data: list, n: int) -> int:
        model_weights = {"w": [0.1, 0.2]}
        small = 3
        return len(train_data) + n + len(model_weights)

    assert f([1, 2], 1) == 4
    run = only_run("auto")
    assert len(run.inputs) == 1 and len(run.outputs) == 1
    assert pickle.loads(Path(run.inputs[0]).read_bytes()) == [1, 2]
    assert pickle.loads(Path(run.outputs[0]).read_bytes()) == {"w": [0.1, 0.2]}


def test_code_snapshot_holds_the_function_source(home: Path) -> None:
    component = mltrace.Component("snap")

    @component.run
    def distinctive_function_name() -> str:
        marker = "a-very-distinctive-marker-4711"
        return marker

    distinctive_function_name()
    run = only_run("snap")
    assert "def distinctive_function_name" in run.code_snapshot
    assert "a-very-distinctive-marker-4711" in run.code_snapshot
    assert run.code_snapshot.strip() in textwrap.dedent(inspect.getsource(sys.modules[__name__]))


# -- ComponentRun ----------------------------------------------------------------------------


def test_log_component_run_requires_both_timestamps(home: Path) -> None:
    run = mltrace.ComponentRun("explicit")
    with pytest.raises(RuntimeError):
        mltrace.log_component_run(run)
    run.set_start_timestamp()
    with pytest.raises(RuntimeError):
        mltrace.log_component_run(run)
    only_end = mltrace.ComponentRun("explicit")
    only_end.set_end_timestamp()
    with pytest.raises(RuntimeError):
        mltrace.log_component_run(only_end)
    assert mltrace.get_history("explicit") == []
    run.set_end_timestamp()
    mltrace.log_component_run(run)
    assert len(mltrace.get_history("explicit")) == 1


def test_component_run_explicit_fields_round_trip(home: Path) -> None:
    start = datetime(2024, 3, 1, 12, 0, 0, 123456)  # naive: UTC
    end = datetime(2024, 3, 1, 14, 30, 0, tzinfo=timezone(timedelta(hours=2)))  # 12:30 UTC
    run = mltrace.ComponentRun("explicit")
    run.set_start_timestamp(start)
    run.set_end_timestamp(end)
    run.add_input("a.csv")
    run.add_input("a.csv")
    run.add_inputs(["b.csv", "a.csv", mltrace.IOPointer("b.csv")])
    run.add_output("model.pkl")
    run.add_outputs(["model.pkl", "metrics.json"])
    run.git_hash = "0123456789abcdef0123456789abcdef01234567"
    run.git_tags = ["v1", "release"]
    run.code_snapshot = b"print('hello')\n"
    run.notes = "hand-logged"
    mltrace.log_component_run(run, staleness_threshold=1234)

    (stored,) = mltrace.get_history("explicit")
    assert stored.start_timestamp == datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert stored.end_timestamp == datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc)
    assert stored.start_timestamp.utcoffset() == timedelta(0)
    assert stored.inputs == ["a.csv", "b.csv"]
    assert stored.outputs == ["model.pkl", "metrics.json"]
    assert stored.git_hash == "0123456789abcdef0123456789abcdef01234567"
    assert sorted(stored.git_tags) == ["release", "v1"]
    assert stored.code_snapshot == "print('hello')\n"
    assert stored.notes == "hand-logged"
    assert stored.status == "OK" and stored.status_message == ""
    assert stored.staleness_threshold == 1234
    assert len(stored.trace_id) == 32 and stored.trace_id != stored.id
    assert stored.service_name == "mltrace"  # the default service name
    assert [(p.name, p.pointer_type, p.version) for p in stored.output_pointers] == [
        ("model.pkl", "MODEL", ""), ("metrics.json", "DATA", "")
    ]
    assert isinstance(stored.attributes, dict) and stored.owner == ""
    assert stored.dependencies == [] and stored.test_results == []
    assert stored.trigger_results == []
    same = mltrace.get_component_run_information(stored.id)
    assert same.to_dict() == stored.to_dict()


def test_pointer_types_are_inferred_from_names(home: Path) -> None:
    expected = {
        "train.csv": "DATA",
        "part-0.parquet": "DATA",
        "clf.pkl": "MODEL",
        "clf.joblib": "MODEL",
        "net.onnx": "MODEL",
        "my_model": "MODEL",
        "https://api.example.com/predict": "ENDPOINT",
        "something": "UNKNOWN",
    }
    for name, kind in expected.items():
        assert mltrace.IOPointer(name).pointer_type == kind, name
        assert mltrace.IOPointer(name).pointer_type == mltrace.PointerType(kind)
    run = mltrace.ComponentRun("types")
    run.set_start_timestamp()
    run.add_inputs(list(expected))
    run.set_end_timestamp()
    mltrace.log_component_run(run)
    stored = only_run("types")
    assert {p.name: p.pointer_type for p in stored.input_pointers} == expected


def test_io_pointer_value_sets_version() -> None:
    one, same, other = (
        mltrace.IOPointer("x.csv", value=[1, 2]),
        mltrace.IOPointer("x.csv", value=[1, 2]),
        mltrace.IOPointer("x.csv", value=[1, 3]),
    )
    assert one.version and one.version == same.version != other.version
    assert mltrace.IOPointer("x.csv").version == ""


def test_create_random_ids_are_unique_strings() -> None:
    ids = mltrace.create_random_ids(50)
    assert len(ids) == 50 == len(set(ids))
    assert all(isinstance(item, str) and item for item in ids)


# -- save / load -----------------------------------------------------------------------------


def test_save_and_load_inside_a_run_are_logged(home: Path, tmp_path: Path) -> None:
    explicit = str(tmp_path / "weights.pkl")
    writer = mltrace.Component("writer")
    reader = mltrace.Component("reader")

    @writer.run
    def write() -> tuple[str, str]:
        return mltrace.save({"w": 1}), mltrace.save([1, 2, 3], explicit)

    @reader.run
    def read(path: str) -> object:
        return mltrace.load(path)

    first, second = write()
    assert second == explicit
    assert read(second) == [1, 2, 3]

    wrote = only_run("writer")
    assert wrote.outputs == [first, explicit]
    assert all(len(p.version) == 64 for p in wrote.output_pointers)
    assert Path(first).is_relative_to(home)
    got = only_run("reader")
    assert got.inputs == [explicit]
    assert got.input_pointers[0].version == wrote.output_pointers[1].version
    assert got.dependencies == [wrote.id]


def test_a_path_variable_of_a_saved_or_loaded_file_is_logged_once(
    home: Path, tmp_path: Path
) -> None:
    """output_vars/input_vars naming the path that save/load versioned add no second,
    unversioned pointer of the same name; other variables keep theirs."""
    explicit = str(tmp_path / "model.pkl")
    writer = mltrace.Component("writer")
    reader = mltrace.Component("reader")

    @writer.run(output_vars=["path", "report"])
    def write() -> None:
        path = mltrace.save({"w": 1}, explicit)
        report = "report.txt"

    @reader.run(input_vars=["path"])
    def read(path: str) -> object:
        return mltrace.load(path)

    serving = mltrace.Component("serving")

    @serving.run(output_vars=["path"], endpoint=True)
    def serve() -> None:
        path = mltrace.save([0.9], str(tmp_path / "predictions.pkl"))

    write()
    read(explicit)
    serve()
    wrote, got = only_run("writer"), only_run("reader")
    assert [(p.name, len(p.version)) for p in wrote.output_pointers] == [
        ("report.txt", 0), (explicit, 64)]
    assert [(p.name, len(p.version)) for p in got.input_pointers] == [(explicit, 64)]
    assert got.dependencies == [wrote.id]
    (served,) = only_run("serving").output_pointers  # endpoint=True's type is kept
    assert (len(served.version), served.pointer_type) == (64, "ENDPOINT")


def test_save_and_load_outside_a_run_log_nothing(home: Path, tmp_path: Path) -> None:
    path = mltrace.save({"k": "v"}, str(tmp_path / "obj.pkl"))
    assert mltrace.load(path) == {"k": "v"}
    assert mltrace.get_recent_run_ids() == []


# -- components ------------------------------------------------------------------------------


def test_create_and_tag_components(home: Path) -> None:
    mltrace.create_component("ingest", "reads raw files", "alice", tags=["etl"])
    mltrace.create_component("train", "fits the model", "bob", tags=["ml"])
    mltrace.tag_component("ingest", ["daily", "etl"])
    mltrace.tag_component("train", "gpu")

    info = mltrace.get_component_information("ingest")
    assert info.name == "ingest"
    assert info.description == "reads raw files"
    assert info.owner == "alice"
    assert sorted(info.tags) == ["daily", "etl"]
    assert sorted(mltrace.get_component_information("train").tags) == ["gpu", "ml"]

    assert [c.name for c in mltrace.get_components()] == ["ingest", "train"]
    assert [c.name for c in mltrace.get_components(tag="etl")] == ["ingest"]
    assert [c.name for c in mltrace.get_components(owner="bob")] == ["train"]
    assert [c.name for c in mltrace.get_components(tag="gpu", owner="alice")] == []
    assert [c.name for c in mltrace.get_components_with_tag("daily")] == ["ingest"]
    assert [c.name for c in mltrace.get_components_with_owner("alice")] == ["ingest"]
    assert mltrace.get_tags() == ["daily", "etl", "gpu", "ml"]
    # Definitions are not runs.
    assert mltrace.get_recent_run_ids() == []


def test_unknown_component_information_is_not_found(home: Path) -> None:
    with pytest.raises(mltrace.NotFoundError, match="nobody"):
        mltrace.get_component_information("nobody")
    assert issubclass(mltrace.NotFoundError, RuntimeError)


# -- git -------------------------------------------------------------------------------------


def test_git_hash_and_tags_are_captured_inside_a_repository(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = pytest.importorskip("git")
    folder = tmp_path / "repo"
    folder.mkdir()
    repo = git.Repo.init(folder)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    (folder / "pipeline.py").write_text("x = 1\n")
    repo.index.add(["pipeline.py"])
    commit = repo.index.commit("first")
    repo.create_tag("v0.1")
    monkeypatch.chdir(folder)

    assert mltrace.get_git_hash() == commit.hexsha
    assert mltrace.get_git_tags() == ["v0.1"]

    @mltrace.Component("versioned").run
    def step() -> None:
        return None

    step()
    run = only_run("versioned")
    assert run.git_hash == commit.hexsha
    assert run.git_tags == ["v0.1"]


def test_git_hash_is_empty_outside_a_repository(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert mltrace.get_git_hash() == ""


# -- span links ------------------------------------------------------------------------------


def test_in_process_dependencies_are_span_links(home: Path) -> None:
    producer = mltrace.Component("producer")
    consumer = mltrace.Component("consumer")

    @producer.run(output_vars=["out"])
    def produce() -> None:
        out = "linked.csv"

    @consumer.run(input_vars=["inp"], output_vars=["out"])
    def consume() -> None:
        inp = "linked.csv"
        out = "result.csv"

    produce()
    consume()
    made = only_run("producer")
    used = only_run("consumer")
    link_ids, link_attributes, link_traces = span_row(
        used.id, "`Links.SpanId`, `Links.Attributes`, `Links.TraceId`"
    )
    assert link_ids == [made.id]
    assert link_traces == [made.trace_id]
    assert link_attributes[0][semconv.LINK_POINTER] == "linked.csv"
    assert used.dependencies == [made.id]
    (producer_links,) = span_row(made.id, "`Links.SpanId`")
    assert producer_links == []


def test_set_upstream_creates_a_link(home: Path) -> None:
    @mltrace.Component("upstream").run
    def up() -> None:
        return None

    up()
    run = mltrace.ComponentRun("downstream")
    run.set_start_timestamp()
    run.set_upstream("upstream")
    run.set_end_timestamp()
    mltrace.log_component_run(run)
    upstream_run = only_run("upstream")
    link_ids, link_attributes = span_row(
        only_run("downstream").id, "`Links.SpanId`, `Links.Attributes`"
    )
    assert link_ids == [upstream_run.id]
    assert link_attributes[0][semconv.LINK_UPSTREAM] == "upstream"


def test_log_component_run_without_dependencies_from_inputs_has_no_links(home: Path) -> None:
    first = mltrace.ComponentRun("first")
    first.set_start_timestamp()
    first.add_output("shared.csv")
    first.set_end_timestamp()
    mltrace.log_component_run(first)
    second = mltrace.ComponentRun("second")
    second.set_start_timestamp()
    second.add_input("shared.csv")
    second.set_end_timestamp()
    mltrace.log_component_run(second, set_dependencies_from_inputs=False)

    stored = only_run("second")
    (link_ids,) = span_row(stored.id, "`Links.SpanId`")
    assert link_ids == []
    # Query-time lineage is always on.
    assert stored.dependencies == [only_run("first").id]


# -- a TracerProvider installed by the application -------------------------------------------

_USER_PROVIDER_SCRIPT = """
    import sys

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    import mltrace_otel as mltrace

    mltrace.configure(home=sys.argv[1])

    with trace.get_tracer("app").start_as_current_span("app-work"):
        @mltrace.Component("user_provider").run(output_vars=["out"])
        def step():
            out = "user.csv"
            return 5

        assert step() == 5

    names = sorted(span.name for span in exporter.get_finished_spans())
    assert names == ["app-work", "user_provider"], names
    assert trace.get_tracer_provider() is provider

    (run,) = mltrace.get_history("user_provider")
    assert run.outputs == ["user.csv"]
    mine = [s for s in exporter.get_finished_spans() if s.name == "user_provider"][0]
    assert run.id == format(mine.context.span_id, "016x")
    parent = [s for s in exporter.get_finished_spans() if s.name == "app-work"][0]
    assert mine.parent.span_id == parent.context.span_id
    # The application's own spans are not component runs.
    (count,) = mltrace.query("SELECT count() FROM otel_traces")[0]
    assert count == 1, count
    print("ok")
"""


def test_user_installed_tracer_provider_is_reused(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "user_provider.py", _USER_PROVIDER_SCRIPT)
    result = run_script(script, home, str(tmp_path / "sub_home"))
    assert result.stdout.strip().endswith("ok")


def test_a_run_tracing_could_not_log_makes_flush_say_so(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The function's result is the user's, the failure one warning, and flush() no longer
    says that every run was delivered."""
    from mltrace_otel import state
    from mltrace_otel.sdk import component as component_module

    monkeypatch.setattr(state, "_lost_runs", 0)  # this process's count, restored afterwards

    def broken_emit(*_: object) -> None:
        raise OSError("the span could not be ended")

    monkeypatch.setattr(component_module, "emit", broken_emit)
    stage = mltrace.Component("breaks")

    @stage.run(output_vars=["target"])
    def step() -> int:
        target = "out.csv"
        return 7

    assert mltrace.flush() is True
    with caplog.at_level("WARNING", logger="mltrace_otel"):
        assert step() == 7 and step() == 7
    assert [record.getMessage() for record in caplog.records] == [
        "mltrace: could not log run of breaks: the span could not be ended (runs failing the "
        "same way are not reported again)"]
    assert mltrace.flush() is False
