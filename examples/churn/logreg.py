"""Logistic regression in numpy: standardize, then batch gradient descent with L2."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ChurnModel:
    """A fitted model: feature names, standardization and weights."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of churn for each row of ``x`` (columns in ``features`` order)."""
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))


def fit(
    features: list[str],
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 0.01,
    learning_rate: float = 0.5,
    steps: int = 500,
) -> ChurnModel:
    """Fit weights by minimizing the mean log loss plus ``l2`` times the squared weights."""
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    standardized = (x - mean) / scale
    weights = np.zeros(x.shape[1])
    bias = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(standardized @ weights + bias)))
        error = p - y
        weights -= learning_rate * (standardized.T @ error / len(y) + l2 * weights)
        bias -= learning_rate * float(error.mean())
    return ChurnModel(features, mean, scale, weights, bias)


def accuracy(model: ChurnModel, x: np.ndarray, y: np.ndarray) -> float:
    """Share of rows where the 0.5-thresholded prediction equals the label."""
    return float(((model.predict_proba(x) >= 0.5) == (y == 1)).mean())


def log_loss(model: ChurnModel, x: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log likelihood of the labels."""
    p = np.clip(model.predict_proba(x), 1e-12, 1 - 1e-12)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
