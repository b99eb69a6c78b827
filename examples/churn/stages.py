"""The five stages of the churn pipeline, each one a logged mltrace component.

Every stage names its inputs and outputs in ``input_vars``/``output_vars``: local variables
holding pointer names (here, absolute file paths). Those names are all that connects the
stages: they may run in one process or in several, and ``mltrace trace`` still finds which
runs produced an output.
"""

from __future__ import annotations

import json
from pathlib import Path

import logreg
import numpy as np
import synthetic
import tables

import mltrace_otel as mltrace

FEATURES = [
    "tenure_months", "monthly_charges", "support_calls", "total_charges",
    "contract_one_year", "contract_two_year",
]
PREDICTION_COLUMNS = ["prediction_id", "customer_id", "churn_probability", "will_churn"]

ingest_component = mltrace.Component(
    "ingest",
    owner="data-platform",
    description="Export the customer table from the CRM (synthetic, seeded).",
    tags=["churn", "data"],
)
clean_component = mltrace.Component(
    "clean",
    owner="data-platform",
    description="Drop duplicate customers, blank charges and impossible tenures.",
    tags=["churn", "data"],
)
featurize_component = mltrace.Component(
    "featurize",
    owner="ml-team",
    description="Derive model features; split labelled customers from open renewals.",
    tags=["churn", "features"],
)
train_component = mltrace.Component(
    "train",
    owner="ml-team",
    description="Fit a logistic regression on labelled customers; report validation metrics.",
    tags=["churn", "model"],
)
predict_component = mltrace.Component(
    "predict",
    owner="ml-team",
    description="Score open renewals; one prediction id per customer.",
    tags=["churn", "serving"],
)


def file_pointer(data_dir: Path, *parts: str) -> str:
    """A file's pointer name: its absolute path, spelled the same in every process."""
    return str(data_dir.resolve().joinpath(*parts))


@ingest_component.run(input_vars=["source"], output_vars=["raw_path"])
def ingest(data_dir: Path, customers: int, seed: int) -> str:
    source = f"crm://customers?count={customers}&seed={seed}"
    raw_path = file_pointer(data_dir, "raw", "customers.csv")
    rows = synthetic.customers(customers, seed)
    tables.write_csv(raw_path, synthetic.COLUMNS, rows)
    print(f"ingest: {len(rows)} rows from {source}")
    return raw_path


@clean_component.run(input_vars=["raw_path"], output_vars=["clean_path"])
def clean(data_dir: Path) -> str:
    raw_path = file_pointer(data_dir, "raw", "customers.csv")
    clean_path = file_pointer(data_dir, "clean", "customers.csv")
    rows, seen = [], set()
    for row in tables.read_csv(raw_path):
        valid = row["monthly_charges"] != "" and int(row["tenure_months"]) > 0
        if valid and row["customer_id"] not in seen:
            seen.add(row["customer_id"])
            rows.append(row)
    tables.write_csv(clean_path, synthetic.COLUMNS, rows)
    print(f"clean: kept {len(rows)} customers")
    return clean_path


@featurize_component.run(input_vars=["clean_path"], output_vars=["train_path", "score_path"])
def featurize(data_dir: Path) -> tuple[str, str]:
    clean_path = file_pointer(data_dir, "clean", "customers.csv")
    train_path = file_pointer(data_dir, "features", "train.csv")
    score_path = file_pointer(data_dir, "features", "score.csv")
    customers = [_features(row) for row in tables.read_csv(clean_path)]
    labelled = [row for row in customers if row["churned"] != ""]
    open_renewals = [row for row in customers if row["churned"] == ""]
    tables.write_csv(train_path, ["customer_id", *FEATURES, "churned"], labelled)
    tables.write_csv(score_path, ["customer_id", *FEATURES], open_renewals)
    print(f"featurize: {len(labelled)} labelled customers, {len(open_renewals)} to score")
    return train_path, score_path


def _features(row: dict[str, str]) -> dict[str, object]:
    tenure, charges = int(row["tenure_months"]), float(row["monthly_charges"])
    return {
        "customer_id": row["customer_id"],
        "tenure_months": tenure,
        "monthly_charges": charges,
        "support_calls": int(row["support_calls"]),
        "total_charges": round(tenure * charges, 2),
        "contract_one_year": int(row["contract"] == "one-year"),
        "contract_two_year": int(row["contract"] == "two-year"),
        "churned": row["churned"],
    }


@train_component.run(input_vars=["train_path"], output_vars=["metrics_path"])
def train(data_dir: Path) -> str:
    train_path = file_pointer(data_dir, "features", "train.csv")
    model_path = file_pointer(data_dir, "models", "churn_model.pkl")
    metrics_path = file_pointer(data_dir, "models", "metrics.json")
    rows = tables.read_csv(train_path)
    x = np.array([[float(row[name]) for name in FEATURES] for row in rows])
    y = np.array([float(row["churned"]) for row in rows])
    validation = np.arange(len(rows)) % 5 == 0
    model = logreg.fit(FEATURES, x[~validation], y[~validation])
    metrics = {
        "validation_accuracy": round(logreg.accuracy(model, x[validation], y[validation]), 4),
        "validation_log_loss": round(logreg.log_loss(model, x[validation], y[validation]), 4),
        "churn_rate": round(float(y.mean()), 4),
    }
    # Inside a run, mltrace.save logs the pickle as an output, versioned by its content hash.
    mltrace.save(model, model_path)
    Path(metrics_path).write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"train: {metrics}")
    return model_path


@predict_component.run(
    input_vars=["score_path"], output_vars=["prediction_ids", "predictions_path"]
)
def predict(data_dir: Path) -> list[str]:
    score_path = file_pointer(data_dir, "features", "score.csv")
    model_path = file_pointer(data_dir, "models", "churn_model.pkl")
    predictions_path = file_pointer(data_dir, "predictions", "predictions.csv")
    # Inside a run, mltrace.load logs the pickle as an input, with its content hash.
    model = mltrace.load(model_path)
    rows = tables.read_csv(score_path)
    x = np.array([[float(row[name]) for name in model.features] for row in rows])
    probabilities = model.predict_proba(x) if rows else np.empty(0)
    prediction_ids = mltrace.create_random_ids(len(rows))
    predictions = [
        {
            "prediction_id": prediction_id,
            "customer_id": row["customer_id"],
            "churn_probability": f"{probability:.4f}",
            "will_churn": int(probability >= 0.5),
        }
        for prediction_id, row, probability in zip(prediction_ids, rows, probabilities, strict=True)
    ]
    tables.write_csv(predictions_path, PREDICTION_COLUMNS, predictions)
    print(f"predict: {len(prediction_ids)} predictions in {predictions_path}")
    return prediction_ids
