"""mltrace's ``mltrace.entities.components``: components with default data tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrace_otel.entities.tests import OutliersTest
from mltrace_otel.sdk.component import Component

__all__ = ["PreprocessingComponent"]


class PreprocessingComponent(Component):
    """A preprocessing stage that checks its output ``df`` for outliers (``OutliersTest``
    first, then any ``afterTests`` given)."""

    def __init__(
        self,
        owner: str,
        name: str = "Preprocessing",
        description: str = "Preprocessing features to feed into a model.",
        tags: Sequence[str] = (),
        beforeTests: Sequence[Any] = (),
        afterTests: Sequence[Any] = (),
    ) -> None:
        super().__init__(name, owner, description, list(beforeTests),
                         [OutliersTest, *afterTests], list(tags))
