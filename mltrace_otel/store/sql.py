"""The SQL of ``queries/``: located, fragments included, filled with convention names, cached.

A line of a query file that starts with ``{{> grafana/_name}}`` stands for the fragment
``queries/grafana/_name.sql`` (a leading ``_`` marks a fragment, which is never a query of its
own), so a block several queries need is written once and each query is still one complete
statement once rendered (a Grafana panel's rawSql, which has no includes). A fragment file
opens with ``--`` lines documenting it, then one blank line, then its body: the body replaces
the placeholder, its last newline dropped, so the rest of the placeholder's line (say the
``,`` that continues a ``WITH`` list) follows the fragment's last line. Fragments do not
include fragments.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from mltrace_otel import semconv

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
_FRAGMENT = re.compile(r"^\{\{> ([\w/]+)\}\}", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def queries_dir() -> Path:
    """``queries/`` of a source checkout, or the copy packaged into the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_queries", package.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("mltrace_otel: the queries/ folder is missing from this installation")


def fragment(name: str) -> str:
    """The body of the fragment ``queries/<name>.sql`` (its documentation header removed)."""
    if not Path(name).name.startswith("_"):
        raise ValueError(f"{{{{> {name}}}}}: only a _fragment can be included, not a query")
    path = queries_dir() / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"{{{{> {name}}}}}: there is no fragment queries/{name}.sql")
    header, blank, body = path.read_text().partition("\n\n")
    if not blank or not all(line.startswith("--") for line in header.splitlines()):
        raise ValueError(f"queries/{name}.sql: a fragment opens with `--` lines documenting "
                         "it, then a blank line")
    return body.rstrip("\n")


def render(text: str) -> str:
    """Include the ``{{> fragment}}`` lines, then replace ``{{NAME}}`` with the
    semantic-convention constant ``NAME``."""
    text = _FRAGMENT.sub(lambda match: fragment(match.group(1)), text)
    if "{{>" in text:
        raise ValueError("a {{> fragment}} placeholder that does not start a line of a query "
                         "file (fragments do not include fragments)")
    names = semconv.sql_names()
    return _PLACEHOLDER.sub(lambda match: names[match.group(1)], text)


@functools.cache
def load(name: str) -> str:
    """The rendered SQL of ``queries/<name>.sql``."""
    return render((queries_dir() / f"{name}.sql").read_text())


def schema_statements() -> list[str]:
    """The DDL of ``queries/schema/`` in file order: otel_traces first, then mltrace's own."""
    return [render(path.read_text()) for path in sorted((queries_dir() / "schema").glob("*.sql"))]
