"""The tree keeps its architecture: the pipeline side (``sdk/``) stays light and never imports
the query side, and no module imports itself back through others."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import mltrace_otel

PACKAGE = Path(mltrace_otel.__file__).parent
QUERY_SIDE = ("store", "lineage", "query", "cli", "server")
HEAVY = ("chdb", "numpy", "pyarrow", "clickhouse_connect")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every mltrace_otel module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "mltrace_otel"}


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def test_the_pipeline_side_never_imports_the_query_side() -> None:
    offenders = {
        name: sorted(
            imported
            for imported in _imports(path)
            if imported.split(".")[1:2] and imported.split(".")[1] in QUERY_SIDE
        )
        for name, path in _modules().items()
        if name.startswith("mltrace_otel.sdk")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_importing_the_package_and_the_sdk_loads_no_heavy_library() -> None:
    sdk_modules = sorted(name for name in _modules() if name.startswith("mltrace_otel.sdk."))
    program = "\n".join(
        [
            "import sys, importlib",
            "import mltrace_otel",
            *(f"importlib.import_module({name!r})" for name in sdk_modules),
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))",
        ]
    )
    output = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
    assert len(sdk_modules) >= 10  # the walk really saw the SDK


def test_no_import_circles() -> None:
    modules = _modules()
    graph = {
        name: {imported for imported in _imports(path) if imported in modules and imported != name}
        for name, path in modules.items()
    }
    # A package's __init__ re-exporting its own modules is not a circle of the code.
    for name in graph:
        graph[name] = {target for target in graph[name] if not name.startswith(f"{target}.")}
    circles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_each_wing_says_what_it_offers() -> None:
    for wing in ("sdk", "store", "lineage", "query", "cli", "server"):
        init = PACKAGE / wing / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring, f"{wing}/__init__.py has no docstring"


def test_a_cli_query_loads_no_opentelemetry(tmp_path: Path) -> None:
    """A store command that logs nothing (here `history`, the query path of `trace` and
    `recent`) never imports OpenTelemetry: the CLI's start is mostly imports."""
    program = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules"
        " if m.startswith('opentelemetry')})))\n"
        "sys.argv = ['mltrace', 'history', 'nothing']\n"
        "from mltrace_otel.cli.launch import run\n"
        "run()\n"
    )
    env = {**os.environ, "MLTRACE_HOME": str(tmp_path / "home")}
    env.pop("MLTRACE_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
