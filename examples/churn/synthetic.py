"""A small synthetic customer-churn dataset, the same for the same seed.

It looks like a CRM export: one row per customer, a few dirty rows (missing charges,
impossible tenures, duplicates) for the clean stage to remove, and customers whose renewal
is still open, so their outcome (``churned``) is empty: those are the ones to predict.
"""

from __future__ import annotations

import numpy as np

CONTRACTS = ("month-to-month", "one-year", "two-year")
COLUMNS = (
    "customer_id", "tenure_months", "contract", "monthly_charges", "support_calls", "churned",
)


def customers(count: int, seed: int) -> list[dict[str, str]]:
    """``count`` customers (plus duplicated rows), as CSV-ready strings."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, count)
    contract = rng.choice(len(CONTRACTS), count, p=[0.55, 0.25, 0.20])
    charges = np.clip(rng.normal(65.0, 20.0, count), 18.0, 120.0).round(2)
    calls = rng.poisson(1.5, count)
    logit = (
        -0.6 - 0.05 * tenure + 0.02 * (charges - 65.0) + 0.5 * calls
        - 1.2 * (contract == 1) - 2.0 * (contract == 2)
    )
    churned = rng.random(count) < 1.0 / (1.0 + np.exp(-logit))
    still_open = rng.random(count) < 0.03
    rows = [
        {
            "customer_id": f"C{index:05d}",
            "tenure_months": str(tenure[index]),
            "contract": CONTRACTS[contract[index]],
            "monthly_charges": f"{charges[index]:.2f}",
            "support_calls": str(calls[index]),
            "churned": "" if still_open[index] else str(int(churned[index])),
        }
        for index in range(count)
    ]
    _make_dirty(rows, rng)
    return rows


def _make_dirty(rows: list[dict[str, str]], rng: np.random.Generator) -> None:
    """What real exports contain: blanks, data-entry errors and repeated rows."""
    for index in rng.choice(len(rows), len(rows) // 50, replace=False):
        rows[index]["monthly_charges"] = ""
    for index in rng.choice(len(rows), len(rows) // 100, replace=False):
        rows[index]["tenure_months"] = "-1"
    for index in rng.choice(len(rows), len(rows) // 100, replace=False):
        rows.append(dict(rows[index]))
