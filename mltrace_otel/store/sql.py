"""The SQL of ``queries/``: located, filled with convention names, cached."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from mltrace_otel import semconv

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


@functools.lru_cache(maxsize=1)
def queries_dir() -> Path:
    """``queries/`` of a source checkout, or the copy packaged into the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_queries", package.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("mltrace_otel: the queries/ folder is missing from this installation")


def render(text: str) -> str:
    """Replace ``{{NAME}}`` with the semantic-convention constant ``NAME``."""
    names = semconv.sql_names()
    return _PLACEHOLDER.sub(lambda match: names[match.group(1)], text)


@functools.cache
def load(name: str) -> str:
    """The rendered SQL of ``queries/<name>.sql``."""
    return render((queries_dir() / f"{name}.sql").read_text())


def schema_statements() -> list[str]:
    """The DDL of ``queries/schema/`` in file order: otel_traces first, then mltrace's own."""
    return [render(path.read_text()) for path in sorted((queries_dir() / "schema").glob("*.sql"))]
