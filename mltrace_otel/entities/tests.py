"""mltrace's ``mltrace.entities.tests``: ready-made data tests."""

from __future__ import annotations

from typing import Any

from mltrace_otel.sdk.datatests import Test

__all__ = ["OutliersTest"]


class OutliersTest(Test):
    """No value of a data frame lies more than ``stdev_cutoff`` standard deviations from its
    column's mean (mltrace's z-score check; the frame is the run's ``df`` variable)."""

    def __init__(self) -> None:
        super().__init__("Outliers")

    def testZscore(self, df: Any, stdev_cutoff: float = 5.0) -> None:
        z_scores = ((df - df.mean(axis=0, skipna=True)) / df.std(axis=0, skipna=True)).abs()
        if (z_scores > stdev_cutoff).to_numpy().sum() > 0:
            raise AssertionError("There are outlier values!")
