"""The original's example scripts (examples/stale.py, industry_ml.py, tiny.py,
research_ml.py) re-written as tests: same components, decorators and calls."""

from __future__ import annotations

import itertools
import random
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path

import mltrace_otel as mltrace


def random_id() -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(10))


def test_stale_example(home: Path) -> None:
    training_component = mltrace.Component(
        "training", "Example of training a model.", "data_scientist"
    )
    inference_component = mltrace.Component(
        "inference", "Example of doing inference.", "ml_engineer"
    )

    @training_component.run(
        component_name="training", input_vars=["version"], output_vars=["model_file"]
    )
    def training(version: str) -> str:
        model_file = "model_" + version
        return model_file

    @inference_component.run(
        component_name="inference", input_vars=["model_files"], output_vars=["identifier"]
    )
    def inference(model_files: list[str]) -> str:
        identifier = random_id()
        return identifier

    first_model_file = training("0")
    now = datetime.now(timezone.utc)
    old = mltrace.ComponentRun(
        "some_old_component", start_timestamp=now - timedelta(days=61), end_timestamp=now
    )
    second_model_file = "model_1"
    old.add_input("1")
    old.add_output(second_model_file)
    mltrace.log_component_run(old)
    training("2")
    identifier = inference([first_model_file, second_model_file])

    (level0, run), *upstream = mltrace.backtrace(identifier)
    assert (level0, run.component_name) == (0, "inference")
    assert sorted(dep.component_name for _, dep in upstream) == ["some_old_component", "training"]
    assert any("fresher run" in message for message in run.stale)
    assert any("was run" in message and "days ago" in message for message in run.stale)


def test_industry_ml_example(home: Path) -> None:
    def component(name: str, description: str, owner: str) -> mltrace.Component:
        return mltrace.Component(name=name, description=description, owner=owner,
                                 tags=["example"])

    ingest_component = component("ingest", "Ingesting data from some client.", "data_engineer")
    clean_component = component("clean", "Cleaning data", "data_engineer")
    featuregen_component = component("featuregen", "Generating features.", "ml_engineer")
    training_component = component("training", "Training a model.", "data_scientist")
    inference_component = component("inference", "Doing inference.", "ml_engineer")

    @ingest_component.run(
        input_filenames=["client_data_filename"], output_filenames=["ingested_data_filename"]
    )
    def ingest(client_data_filename: str) -> str:
        ingested_data_filename = f"ingested_{client_data_filename}"
        return ingested_data_filename

    @clean_component.run(input_filenames=["filename"], output_filenames=["clean_data_filename"])
    def clean(filename: str) -> str:
        clean_data_filename = f"clean_{filename}"
        return clean_data_filename

    @featuregen_component.run(input_filenames=["filename"], output_filenames=["features_filename"])
    def featuregen(filename: str) -> str:
        features_filename = f"feature_{filename}"
        return features_filename

    @training_component.run(
        input_filenames=["filename", "dev_model"], output_filenames=["model_filename"]
    )
    def training(filename: str, dev_model: str = "") -> str:
        model_filename = "model.joblib"
        if len(dev_model) > 0:
            model_filename = "prod_model.joblib"
        return model_filename

    @inference_component.run(
        input_filenames=["filename", "model_path"], output_filenames=["output_id"]
    )
    def inference(filename: str, model_path: str) -> str:
        output_id = random_id()
        return output_id

    historical_features = featuregen(clean(ingest("historical_data.csv")))
    historical_model = training(historical_features)  # dev_model="": an empty pointer name
    production_model = training(historical_features, historical_model)
    live_features = featuregen(clean(ingest("live_data.csv")))
    output_id = inference(live_features, production_model)

    trace = [(level, run.component_name) for level, run in mltrace.backtrace(output_id)]
    assert trace[0] == (0, "inference")
    assert sorted(name for _, name in trace) == sorted(  # each of the 9 runs once
        ["inference", *["featuregen", "clean", "ingest", "training"] * 2]
    )
    assert {(1, "featuregen"), (1, "training"), (3, "ingest")} <= set(trace)
    first_training = mltrace.get_history("training")[-1]
    assert first_training.inputs == ["feature_clean_ingested_historical_data.csv"]
    assert [c.name for c in mltrace.get_components(tag="example")] == sorted(
        ["ingest", "clean", "featuregen", "training", "inference"]
    )
    assert mltrace.get_component_information("training").owner == "data_scientist"


def test_tiny_example(home: Path) -> None:
    identifier = random_id()
    mltrace.create_component(
        name="tiny", description="Example of a tiny component", owner="groot", tags=["example"]
    )

    @mltrace.register(component_name="tiny", input_vars=["inp_str"], output_vars=["out_str"])
    def increment(inp: int) -> int:
        inp_str = f"{identifier}_{inp}"  # noqa: F841
        out_str = f"{identifier}_{inp + 1}"  # noqa: F841
        return inp + 1

    i = 0
    while i < 10:
        i = increment(i)

    trace = mltrace.backtrace(f"{identifier}_10")
    assert [level for level, _ in trace] == list(range(10))
    assert trace[-1][1].inputs == [f"{identifier}_0"]
    assert mltrace.get_tags() == ["example"]


def test_research_ml_example(home: Path) -> None:
    component = mltrace.Component(
        name="research_model_development",
        description="Example of training a model for research.",
        owner="neurips_queen",
        tags=["example"],
    )

    @component.run(input_vars=["lr", "num_epochs", "hidden_size"], output_vars=["model_metric"])
    def train_and_evaluate_model(lr: str, num_epochs: str, hidden_size: str) -> str:
        model_metric = f"{random.uniform(0, 1)}_accuracy"
        return model_metric

    candidates = itertools.product([0.001, 0.01, 0.1], [10, 50, 100], [64, 128, 256])
    for lr, num_epochs, hidden_size in candidates:
        train_and_evaluate_model(
            f"lr_{lr}", f"num_epochs_{num_epochs}", f"hidden_size_{hidden_size}"
        )

    history = mltrace.get_history("research_model_development", limit=None)
    assert len(history) == 27
    assert len(mltrace.get_history("research_model_development")) == 10
    assert history[0].inputs == ["lr_0.1", "num_epochs_100", "hidden_size_256"]
    assert history[0].outputs[0].endswith("_accuracy")
