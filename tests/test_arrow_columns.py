"""Arrays built from their buffers equal ``pyarrow.array``'s, refuse what they do not
document, and keep pandas out of a logging process."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from mltrace_otel import arrow_columns
from tests._support import run_script, write_script

TIME = pa.timestamp("ns", tz="UTC")


@pytest.mark.parametrize("values", [
    [], [""], ["a", "", "\u00e9\U0001f600", "\x00", "x" * 10_000], ["mltrace.run"] * 1000,
    ["ascii", "\u00e9", "", "\U0001f600 and more", "z"],
])
def test_strings_equal_pyarrow_array(values: list[str]) -> None:
    built = arrow_columns.strings(values)
    assert built.equals(pa.array(values, type=pa.string()))
    assert built.null_count == 0
    built.validate(full=True)


@pytest.mark.parametrize("values", [[], [0], [-(2**63), 2**63 - 1, 1_700_000_000_000_000_000]])
def test_signed_integers_and_times_equal_pyarrow_array(values: list[int]) -> None:
    for type in (pa.int64(), TIME):
        assert arrow_columns.int64s(values, type).equals(pa.array(values, type=type))


def test_unsigned_and_offsets_equal_pyarrow_array() -> None:
    assert arrow_columns.uint64s([0, 2**64 - 1]).equals(pa.array([0, 2**64 - 1], pa.uint64()))
    assert arrow_columns.int32s([0, 3, 2**31 - 1]).equals(pa.array([0, 3, 2**31 - 1],
                                                                   pa.int32()))


@pytest.mark.parametrize(("build", "values", "error"), [
    (arrow_columns.strings, ["a", None], TypeError),
    (arrow_columns.strings, [b"bytes"], TypeError),
    (arrow_columns.strings, ["\ud800"], UnicodeEncodeError),
    (lambda values: arrow_columns.int64s(values, TIME), [2**63], OverflowError),
    (lambda values: arrow_columns.int64s(values, TIME), [1.5], TypeError),
    (arrow_columns.uint64s, [-1], OverflowError),
    (arrow_columns.int32s, [2**31], OverflowError),
])
def test_anything_else_raises(build, values: list[object], error: type[Exception]) -> None:
    with pytest.raises(error):
        build(values)


def test_a_logging_process_never_imports_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pandas")  # without pandas installed there is nothing to keep out
    script = write_script(tmp_path, "stage.py", """
        import sys

        import mltrace_otel as mltrace

        @mltrace.Component("no-pandas").run(input_vars=["inputs"], output_vars=["outputs"])
        def stage():
            inputs = ["raw.csv"]
            outputs = [f"clean-{index}.csv" for index in range(3)]

        for _ in range(50):
            stage()
        assert mltrace.flush()
        print("pyarrow" in sys.modules, "pandas" in sys.modules)
    """)
    home = tmp_path / "home"
    done = run_script(script, home)
    assert done.stdout.split() == ["True", "False"]
    assert list((home / "spool").glob("*.arrow"))
