"""Every public name of mltrace exists here, with mltrace's signatures and positional orders."""

from __future__ import annotations

import inspect

import pytest

import mltrace_otel as mltrace

ORIGINAL_NAMES = [
    "clean_db", "create_component", "register", "backtrace", "get_history", "tag_component",
    "log_component_run", "create_random_ids", "get_component_information",
    "get_component_run_information", "web_trace", "get_recent_run_ids", "get_io_pointer",
    "set_db_uri", "get_db_uri", "get_git_hash", "get_git_tags", "set_address",
    "add_notes_to_component_run", "flag_output_id", "unflag_output_id",
    "review_flagged_outputs", "get_tags", "get_components", "unflag_all", "load", "save",
    "retract_label", "retrieve_retracted_labels", "retract_labels",
    "retrieve_io_pointers_for_label", "get_labels", "log_output", "log_feedback",
    "compute_metric", "Component", "Test", "ComponentRun", "IOPointer", "Task",
]

NOT_BUILT = {
    "retract_label": ("label-1",),
    "retract_labels": (["label-1"],),
    "retrieve_retracted_labels": (),
    "retrieve_io_pointers_for_label": ("label-1",),
    "get_labels": (),
    "log_output": ("task", "id-1", 0.5),
    "log_feedback": ("task", "id-1", 1.0),
    "compute_metric": ("task", lambda y_true, y_pred: 0.0),
}


@pytest.mark.parametrize("name", ORIGINAL_NAMES)
def test_every_public_name_of_mltrace_is_exported(name: str) -> None:
    assert hasattr(mltrace, name)
    assert name in mltrace.__all__


@pytest.mark.parametrize(("name", "args"), sorted(NOT_BUILT.items()))
def test_features_not_built_raise_a_clear_not_implemented_error(name: str, args: tuple) -> None:
    with pytest.raises(NotImplementedError, match="not built yet"):
        getattr(mltrace, name)(*args)


def test_task_is_not_built() -> None:
    with pytest.raises(NotImplementedError, match="Task"):
        mltrace.Task("classification")


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_component_takes_mltraces_positional_order() -> None:
    assert parameters(mltrace.Component)[:6] == [
        "name", "owner", "description", "beforeTests", "afterTests", "tags"
    ]
    component = mltrace.Component("c", "me", "what", [], [], ["t"])
    assert (component.owner, component.description, component.tags) == ("me", "what", ["t"])


def test_component_facts_are_read_only_as_in_mltrace() -> None:
    component = mltrace.Component("c", "me", "what", [], [], ["t"])
    for name in ("name", "owner", "description", "tags", "beforeTests", "afterTests"):
        with pytest.raises(AttributeError):
            setattr(component, name, "changed")
    with pytest.raises(AttributeError):
        mltrace.ComponentRun("c").component_name = "other"
    assert component.to_dictionary() == {
        "name": "c", "owner": "me", "description": "what", "tags": ["t"]}


def test_register_takes_mltraces_positional_order() -> None:
    assert parameters(mltrace.register) == [
        "component_name", "inputs", "outputs", "input_vars", "output_vars", "input_kwargs",
        "output_kwargs", "endpoint", "staleness_threshold", "auto_log",
    ]


def test_component_run_takes_mltraces_positional_order() -> None:
    assert parameters(mltrace.ComponentRun)[:9] == [
        "component_name", "start_timestamp", "end_timestamp", "inputs", "outputs", "git_hash",
        "code_snapshot", "id", "dependencies",
    ]


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (mltrace.create_component, ["name", "description", "owner", "tags"]),
        (mltrace.tag_component, ["component_name", "tags"]),
        (mltrace.log_component_run,
         ["component_run", "set_dependencies_from_inputs", "staleness_threshold"]),
        (mltrace.get_history, ["component_name", "limit", "date_lower", "date_upper"]),
        (mltrace.get_recent_run_ids, ["limit", "last_run_id"]),
        (mltrace.get_io_pointer, ["io_pointer_id", "io_pointer_val", "create"]),
        (mltrace.get_components, ["tag", "owner"]),
        (mltrace.create_random_ids, ["num_outputs"]),
    ],
)
def test_signatures_follow_mltrace(function: object, expected: list[str]) -> None:
    assert parameters(function) == expected


def test_defaults_follow_mltrace() -> None:
    assert inspect.signature(mltrace.get_history).parameters["limit"].default == 10
    assert inspect.signature(mltrace.get_recent_run_ids).parameters["limit"].default == 5
    assert inspect.signature(mltrace.create_random_ids).parameters["num_outputs"].default == 1
    assert len(mltrace.create_random_ids()) == 1
    ids = mltrace.create_random_ids(3)
    assert len(set(ids)) == 3 and all(len(item) == 36 for item in ids)  # str(uuid4())


def test_mltrace_entities_names_are_the_same_objects() -> None:
    """mltrace's tests import from ``mltrace.entities``; with the import swapped they get
    the classes ``mltrace_otel`` exports."""
    from mltrace_otel import entities

    for name in ("Component", "ComponentRun", "IOPointer", "Test", "Task"):
        assert getattr(entities, name) is getattr(mltrace, name), name


def test_mltrace_entities_submodules_hold_the_same_classes() -> None:
    """Older mltrace tests import ``from mltrace.entities import base_test, base_component``."""
    import importlib

    for module, name in (("base_component", "Component"), ("base_test", "Test"),
                         ("component_run", "ComponentRun"), ("io_pointer", "IOPointer"),
                         ("task", "Task")):
        imported = importlib.import_module(f"mltrace_otel.entities.{module}")
        assert getattr(imported, name) is getattr(mltrace, name), module


def test_an_unlogged_component_runs_dictionary_is_mltraces() -> None:
    run = mltrace.ComponentRun("fresh")
    assert run.to_dictionary() == {
        "component_name": "fresh", "notes": "", "inputs": [], "outputs": [], "git_hash": None,
        "git_tags": [], "code_snapshot": None, "start_timestamp": None, "end_timestamp": None,
        "dependencies": [], "id": None, "stale": [],
    }
    with pytest.raises(TypeError, match="notes must be a str"):
        run.notes = ["not", "text"]  # type: ignore[assignment]
    run.notes = "a note"
    assert run.to_dictionary()["notes"] == "a note"


def test_component_run_pointers_come_in_mltraces_set_order() -> None:
    """mltrace returned ``list(set(...))`` of the pointers; its tests compare with exactly
    that (whatever the hash seed), while the span keeps the order added."""
    pointers = [mltrace.IOPointer(f"in-{index}") for index in range(8)]
    run = mltrace.ComponentRun("ordered")
    run.add_inputs(pointers)
    run.add_inputs(pointers[:3])  # duplicates collapse
    for pointer in pointers:
        run.add_output(pointer)
    assert run.inputs == list(set(pointers))
    assert run.outputs == list(set(pointers))
    assert run.pointer_columns()[0][0] == [pointer.name for pointer in pointers]


def test_mltrace_017_names_components_tests_and_get_all_tags(home: object) -> None:
    """mltrace 0.17 exported ``components`` and ``tests`` (a preprocessing component that
    checks its ``df`` for outliers) and ``get_all_tags``."""
    pandas = pytest.importorskip("pandas")
    from mltrace_otel import entities

    assert mltrace.components is entities.components and mltrace.tests is entities.tests
    assert mltrace.get_all_tags is mltrace.get_tags
    clean = entities.components.PreprocessingComponent("me", name="clean")
    assert clean.afterTests == [entities.tests.OutliersTest]

    @clean.run
    def preprocess(rows: int, outlier: float) -> None:
        df = pandas.DataFrame({"a": [1.0] * rows + [outlier]})  # noqa: F841 (tested after)

    preprocess(50, 1.0)
    with pytest.raises(mltrace.DataTestError, match="There are outlier values!"):
        preprocess(50, 1e6)
