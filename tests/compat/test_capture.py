"""Locals capture (input_vars/output_vars) without a process-wide hook: it works under
cProfile, pyinstrument, coverage, pdb and threads, for closures, methods, private names and
zero-argument super(), and a decorated run leaves no reference cycle."""

from __future__ import annotations

import contextlib
import gc
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from _support import PROCESS_TIMEOUT, subprocess_env, write_script

import mltrace_otel as mltrace

SCRIPT = """
import json, sys
import mltrace_otel as mltrace

stage = mltrace.Component("stage")

@stage.run(input_vars=["source"], output_vars=["target"])
def step(number):
    source = f"in-{number}.csv"
    target = f"out-{number}.csv"  # BREAK HERE
    return number + 1

assert step(1) == 2 and step(41) == 42
print(json.dumps(sorted((run.inputs[0], run.outputs[0]) for run in mltrace.get_history("stage"))))
"""

EXPECTED = [["in-1.csv", "out-1.csv"], ["in-41.csv", "out-41.csv"]]


def run_tool(
    home: Path, *command: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, *command],
        env=subprocess_env(home),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        cwd=home,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def history_line(output: str) -> list[list[str]]:
    """The script's printed history (after a pdb prompt, if any, on the same line)."""
    lines = [line[line.index("[["):] for line in output.splitlines() if "[[" in line]
    return json.loads(lines[-1])


@pytest.fixture
def script(home: Path) -> Path:
    return write_script(home, "pipeline.py", SCRIPT)


def test_under_cprofile(home: Path, script: Path) -> None:
    proc = run_tool(home, "-m", "cProfile", "-o", str(home / "out.prof"), str(script))
    assert history_line(proc.stdout) == EXPECTED
    assert "Profile" not in proc.stderr
    import pstats

    stats = pstats.Stats(str(home / "out.prof"))
    assert any(name == "step" and file.endswith("pipeline.py") for file, _, name in stats.stats)


def test_under_pyinstrument(home: Path, script: Path) -> None:
    proc = run_tool(home, "-m", "pyinstrument", "--show-all", str(script))
    assert history_line(proc.stdout) == EXPECTED


def test_under_coverage_the_body_counts_as_covered(home: Path, script: Path) -> None:
    proc = run_tool(home, "-m", "coverage", "run", "--data-file", str(home / ".cov"), str(script))
    assert history_line(proc.stdout) == EXPECTED
    run_tool(home, "-m", "coverage", "json", "--data-file", str(home / ".cov"),
             "-o", str(home / "cov.json"), "--include", str(script))
    report = json.loads((home / "cov.json").read_text())
    (entry,) = report["files"].values()
    body = [number for number, line in enumerate(SCRIPT.splitlines(), 1)
            if line.strip().startswith(("source =", "target =", "return number"))]
    assert set(body) <= set(entry["executed_lines"])
    assert entry["missing_lines"] == []


def test_under_pdb_a_breakpoint_in_the_body_stops_with_the_locals(
    home: Path, script: Path
) -> None:
    line = next(n for n, text in enumerate(SCRIPT.splitlines(), 1) if "BREAK HERE" in text)
    commands = f"break {script}:{line}\ncontinue\np source\ncontinue\np source\ncontinue\nquit\n"
    proc = run_tool(home, "-m", "pdb", str(script), stdin=commands)
    assert "'in-1.csv'" in proc.stdout and "'in-41.csv'" in proc.stdout
    assert history_line(proc.stdout) == EXPECTED


def test_with_an_existing_python_profile_hook_chained(home: Path) -> None:
    seen: list[str] = []

    def hook(frame: object, event: str, arg: object) -> None:
        if event == "call":
            seen.append(frame.f_code.co_name)  # type: ignore[attr-defined]

    @mltrace.Component("hooked").run(output_vars=["out"])
    def work() -> None:
        out = "hooked.csv"  # noqa: F841

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        work()
    finally:
        sys.setprofile(previous)
    assert "work" in seen
    assert mltrace.get_history("hooked")[0].outputs == ["hooked.csv"]


def test_threads_each_log_their_own_locals(home: Path) -> None:
    component = mltrace.Component("threaded")

    @component.run(input_vars=["source"], output_vars=["target"])
    def step(number: int) -> None:
        source = f"t-in-{number}"  # noqa: F841
        barrier.wait(timeout=30)
        target = f"t-out-{number}"  # noqa: F841

    barrier = threading.Barrier(8)
    threads = [threading.Thread(target=step, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pairs = sorted((run.inputs, run.outputs) for run in mltrace.get_history("threaded"))
    assert pairs == sorted(([f"t-in-{n}"], [f"t-out-{n}"]) for n in range(8))


class Base:
    def label(self) -> str:
        return "base"


class Stage(Base):
    __secret = "mangled.csv"

    @mltrace.Component("method").run(input_vars=["hidden"], output_vars=["name"])
    def label(self, suffix: str = "-x", *, extra: str = "") -> str:
        hidden = self.__secret  # noqa: F841
        name = super().label() + suffix + extra
        return name


def test_methods_private_names_super_defaults_and_closures(home: Path) -> None:
    assert Stage().label() == "base-x"
    assert Stage().label("-y", extra="!") == "base-y!"
    prefix = "closure"

    @mltrace.Component("closure").run(output_vars=["out"])
    def make(count: int) -> list[str]:
        out = [f"{prefix}-{index}" for index in range(count)]
        return out

    assert make(2) == ["closure-0", "closure-1"]
    runs = mltrace.get_history("method")
    assert sorted(run.outputs[0] for run in runs) == ["base-x", "base-y!"]
    assert {run.inputs[0] for run in runs} == {"mangled.csv"}
    assert mltrace.get_history("closure")[0].outputs == ["closure-0", "closure-1"]


def test_tracebacks_keep_the_users_lines(home: Path) -> None:
    @mltrace.Component("fails").run(output_vars=["out"])
    def fail() -> None:
        out = "never.csv"  # noqa: F841
        raise KeyError("boom")

    with pytest.raises(KeyError) as raised:
        fail()
    last = raised.traceback[-1]
    assert last.name == "fail" and "raise KeyError" in str(last.statement)


def test_a_decorated_run_leaves_no_reference_cycle(home: Path) -> None:
    component = mltrace.Component("cycles")

    @component.run(input_vars=["source"], output_vars=["target"])
    def step(fail: bool) -> None:
        source = "cyc-in"  # noqa: F841
        target = "cyc-out"  # noqa: F841
        if fail:
            raise ValueError("expected")

    step(False)  # warm up: one-time recompilation and caches
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(5):
            step(False)
        with contextlib.suppress(ValueError):
            step(True)
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == []


NO_SOURCE = """
def step(number):
    source = f"exec-in-{number}"
    target = f"exec-out-{number}"
    return number
"""


def test_a_function_without_source_falls_back_to_a_chained_profile_hook(home: Path) -> None:
    namespace: dict[str, object] = {}
    exec(compile(NO_SOURCE, "<generated>", "exec"), namespace)  # a function without source
    step = mltrace.Component("generated").run(
        input_vars=["source"], output_vars=["target"]
    )(namespace["step"])
    assert step(3) == 3
    (logged,) = mltrace.get_history("generated")
    assert (logged.inputs, logged.outputs) == (["exec-in-3"], ["exec-out-3"])


def test_without_source_under_cprofile_the_run_is_kept_without_its_vars(home: Path) -> None:
    script = write_script(home, "generated.py", f"""
        import json
        import mltrace_otel as mltrace
        namespace = {{}}
        exec(compile({NO_SOURCE!r}, "<generated>", "exec"), namespace)
        step = mltrace.Component("generated").run(
            input_vars=["source"], output_vars=["target"]
        )(namespace["step"])
        assert step(5) == 5
        runs = mltrace.get_history("generated")
        print(json.dumps([[run.status, run.inputs, run.outputs] for run in runs]))
    """)
    proc = run_tool(home, "-m", "cProfile", "-o", str(home / "gen.prof"), str(script))
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [["OK", [], []]]
    assert "could not be captured" in proc.stderr


def test_a_generator_function_is_logged_without_its_vars_and_never_raises(home: Path) -> None:
    @mltrace.Component("gen").run(output_vars=["x"])
    def produce() -> object:
        x = "gen.csv"  # noqa: F841
        yield 1

    assert list(produce()) == [1]
    (logged,) = mltrace.get_history("gen")
    assert (logged.status, logged.outputs) == ("OK", [])
