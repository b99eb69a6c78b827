"""Reading and writing the pipeline's CSV files."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


def read_csv(path: str) -> list[dict[str, str]]:
    """All rows of a CSV file with a header."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: str, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    """Write ``columns`` of ``rows`` atomically, so a reader never sees half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, target)
