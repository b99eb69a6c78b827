"""The original's client and component tests, as behaviour here (written anew, with
``import mltrace_otel as mltrace``): explicit runs, register, Component.run, kwargs pointers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import mltrace_otel as mltrace


def test_logging_a_run_without_timestamps_raises_runtime_error(home: Path) -> None:
    mltrace.create_component("test_component", "test_description", "shreya")
    with pytest.raises(RuntimeError):
        mltrace.log_component_run(mltrace.ComponentRun("test_component"))


def test_basic_run_collapses_duplicates_and_keeps_a_bytes_snapshot(home: Path) -> None:
    mltrace.create_component("test_component", "test_description", "shreya")
    run = mltrace.ComponentRun(component_name="test_component")
    run.set_start_timestamp()
    run.code_snapshot = b"def main(): return"
    run.add_inputs(["duplicate_input", "duplicate_input"])
    run.add_outputs(["duplicate_output", "duplicate_output"])
    run.set_end_timestamp()
    mltrace.log_component_run(run)

    (logged,) = mltrace.get_history("test_component")
    assert logged.inputs == ["duplicate_input"]
    assert logged.outputs == ["duplicate_output"]
    assert logged.code_snapshot == "def main(): return"
    info = mltrace.get_component_information("test_component")
    assert (info.description, info.owner) == ("test_description", "shreya")


def test_pointer_values_become_versions(home: Path) -> None:
    mltrace.create_component(name="valtest", description="values in pointers", owner="me")
    first = mltrace.IOPointer(name="iop1", value=["this", "is", "the", "first"])
    second = mltrace.IOPointer(name="iop2", value=["this", "is", "the", "second"])
    run = mltrace.ComponentRun("valtest")
    run.set_start_timestamp()
    run.set_end_timestamp()
    run.add_input(first)
    run.add_output(second)
    mltrace.log_component_run(run)

    (logged,) = mltrace.get_history("valtest")
    assert [pointer.version for pointer in logged.input_pointers] == [first.version]
    assert len(first.version) == 64 and first.version != second.version


def test_register_logs_input_and_output_vars(home: Path) -> None:
    mltrace.create_component("test_component", "test_description", "shreya")

    @mltrace.register(component_name="test_component", input_vars=["foo"], output_vars=["bar"])
    def test_func() -> None:
        foo = "foo"  # noqa: F841
        bar = "bar"  # noqa: F841
        return

    assert test_func() is None
    (logged,) = mltrace.get_history("test_component")
    assert (logged.inputs, logged.outputs) == (["foo"], ["bar"])


def test_register_positional_inputs_and_outputs_are_pointer_names(home: Path) -> None:
    @mltrace.register("fixed", ["raw.csv"], ["clean.csv"], ["extra"])
    def clean() -> None:
        extra = "lookup.csv"  # noqa: F841

    clean()
    (logged,) = mltrace.get_history("fixed")
    assert sorted(logged.inputs) == ["lookup.csv", "raw.csv"]
    assert logged.outputs == ["clean.csv"]


@pytest.mark.parametrize(("inputs", "outputs"), [(["foory"], ["bar"]), (["foo"], ["barry"])])
def test_a_variable_that_is_not_a_local_raises_value_error(
    home: Path, inputs: list[str], outputs: list[str]
) -> None:
    @mltrace.register(component_name="test_component", input_vars=inputs, output_vars=outputs)
    def test_func() -> None:
        x = 0
        foo = x + 1  # noqa: F841
        bar = x + 2  # noqa: F841

    with pytest.raises(ValueError, match="not a local variable"):
        test_func()
    with pytest.raises(RuntimeError, match="not a local variable"):  # early mltrace's error
        test_func()
    logged, _ = mltrace.get_history("test_component")
    assert logged.status == "ERROR"


def test_input_and_output_kwargs_pair_names_with_values(home: Path) -> None:
    @mltrace.register(
        component_name="kv",
        input_kwargs={"inp_key": "inp_val"},
        output_kwargs={"out_key": "out_val"},
    )
    def some_func(inp_key: object, inp_val: object) -> None:
        out_key = ["another_filename1.pkl", "another_filename2.pkl"]  # noqa: F841
        out_val = [1, 2]  # noqa: F841

    some_func(inp_key=["some_filename1.pkl", "some_filename2.pkl"], inp_val=[11, 22])
    (logged,) = mltrace.get_history("kv")
    assert logged.inputs == ["some_filename1.pkl", "some_filename2.pkl"]
    assert logged.outputs == ["another_filename1.pkl", "another_filename2.pkl"]
    assert all(len(pointer.version) == 64 for pointer in logged.output_pointers)
    assert logged.output_pointers[0].pointer_type == "MODEL"


def test_kwargs_lists_of_different_lengths_raise_value_error(home: Path) -> None:
    component = mltrace.Component("aditi", "test", "test_description")

    @component.run(input_kwargs={"inp_key": "inp_val"}, output_kwargs={"out_key": "out_val"})
    def function(inp_key: object, inp_val: object) -> None:
        out_key = ["another_filename1.pkl", "another_filename2.pkl"]  # noqa: F841
        out_val = 1  # noqa: F841

    with pytest.raises(ValueError, match="same length"):
        function(inp_key=["a.pkl", "b.pkl"], inp_val=1)


def test_kwargs_naming_missing_variables_raise_value_error(home: Path) -> None:
    component = mltrace.Component("aditi", "test", "test_description")

    @component.run(input_kwargs={"inp_keykey": "inp_valval"})
    def wrong_input(inp_key: object, inp_val: object) -> None:
        return None

    with pytest.raises(ValueError, match="inp_keykey"):
        wrong_input(inp_key="some_filename.pkl", inp_val=[1])


def test_component_positional_arguments_and_bare_run(home: Path) -> None:
    component = mltrace.Component("aditi", "test", "test_description")

    @component.run
    def function() -> None:
        x = 0
        foo = x + 1  # noqa: F841

    function()
    (logged,) = mltrace.get_history("aditi")
    assert logged.owner == "test"
    assert mltrace.get_component_information("aditi").description == "test_description"


def test_run_accepts_positional_vars_and_extra_keywords_with_a_warning(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    component = mltrace.Component("aditi", "test", "test_description")
    with caplog.at_level(logging.WARNING, logger="mltrace_otel"):

        @component.run(["foo"], ["bar"], component_name="test_component")
        def function() -> None:
            foo = "in.csv"  # noqa: F841
            bar = "out.csv"  # noqa: F841

    assert "component_name" in caplog.text
    function()
    (logged,) = mltrace.get_history("aditi")
    assert (logged.inputs, logged.outputs) == (["in.csv"], ["out.csv"])


def test_endpoint_marks_outputs_as_endpoints(home: Path) -> None:
    component = mltrace.Component("serve")

    @component.run(input_vars=["request"], output_vars=["response"], endpoint=True)
    def serve(request: str) -> str:
        response = f"answer-{request}"
        return response

    serve("q1")
    (logged,) = mltrace.get_history("serve")
    assert [pointer.pointer_type for pointer in logged.output_pointers] == ["ENDPOINT"]


def test_after_tests_get_locals_and_only_test_methods_run(home: Path) -> None:
    class DummyTest(mltrace.Test):
        def __init__(self) -> None:
            super().__init__("Dummy")

        def testCorrect(self, n: list) -> None:
            n[0] += 10

        def testAlsoCorrect(self, n: list) -> None:
            n[0] += 10

        def TestNotCorrect(self, n: list) -> None:
            raise Exception("TestNotCorrect called!")

        def notCorrect(self, n: list) -> None:
            raise Exception("notCorrect called!")

    component = mltrace.Component("aditi", "test", "test_description", afterTests=[DummyTest])
    val = [100]

    @component.run
    def function() -> None:
        n = val  # noqa: F841
        return

    function()
    assert val[0] == 120


def test_test_assert_helpers_fail_the_run(home: Path) -> None:
    class Positive(mltrace.Test):
        def testPositive(self, total: int) -> None:
            self.assertGreater(total, 0, "total must be positive")

    component = mltrace.Component("sum", afterTests=[Positive])

    @component.run
    def add(a: int, b: int) -> int:
        total = a + b
        return total

    assert add(1, 2) == 3
    with pytest.raises(AssertionError, match="total must be positive"):
        add(-5, 1)


def test_skip_before_and_skip_after_skip_the_tests(home: Path) -> None:
    class Never(mltrace.Test):
        def testFails(self) -> None:
            raise AssertionError("ran")

    component = mltrace.Component("skip", beforeTests=[Never], afterTests=[Never])

    @component.run(skip_before=True, skip_after=True)
    def step() -> int:
        return 1

    assert step() == 1


def test_subclass_hooks_before_run_and_after_run(home: Path) -> None:
    seen: list[tuple[str, dict]] = []

    class Featuregen(mltrace.Component):
        def __init__(self) -> None:
            super().__init__("featuregen", "ml_engineer", "Generates features.", tags=["x"])

        def beforeRun(self, **kwargs: object) -> None:
            seen.append(("before", dict(kwargs)))

        def afterRun(self, **local_vars: object) -> None:
            seen.append(("after", {"features": local_vars["features"]}))

    component = Featuregen()

    @component.run(input_vars=["filename"], output_vars=["features"])
    def featuregen(filename: str) -> str:
        features = f"features_{filename}"
        return features

    assert featuregen("clean.csv") == "features_clean.csv"
    assert seen == [
        ("before", {"filename": "clean.csv"}),
        ("after", {"features": "features_clean.csv"}),
    ]
    assert mltrace.get_history("featuregen")[0].outputs == ["features_clean.csv"]
