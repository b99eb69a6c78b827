"""A logging process's memory stays flat: after the first exported batch, logging tens of
thousands more runs grows its resident set by little (Arrow's allocator hands each batch's
memory back). The runs write the same pointers, so the links registry stays small here;
its own bound is tested in test_links_registry.py."""

from __future__ import annotations

from pathlib import Path

from _support import run_script, write_script

LOGGER = """
    import mltrace_otel as mltrace


    def resident_mib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024


    @mltrace.register("stage", input_vars=["raw", "model"], output_vars=["out"])
    def stage(raw):
        model = "model.pkl"
        out = "predictions.csv"


    stage("raw.csv")
    mltrace.flush()
    first = resident_mib()
    for index in range(1, 30_001):
        stage("raw.csv")
        if index % 5_000 == 0:
            mltrace.flush()
    mltrace.flush()
    print(f"{first:.1f} {resident_mib():.1f}")
"""


def test_resident_memory_stays_flat_over_thousands_of_runs(tmp_path: Path) -> None:
    done = run_script(write_script(tmp_path, "logger.py", LOGGER), tmp_path / "home")
    first, last = (float(value) for value in done.stdout.split())
    assert last - first <= 30, f"RSS grew from {first:.0f} to {last:.0f} MiB over 30,000 runs"
