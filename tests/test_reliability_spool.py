"""The spool under faults (SPEC 5, 6): bad files quarantined, no duplicates after a reader is
killed between insert and cleanup, no ``.tmp`` debris and no lost run on a full disk."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import PROCESS_TIMEOUT, release_store, run_script, subprocess_env, write_script

import mltrace_otel as mltrace
from mltrace_otel import state
from mltrace_otel.sdk import spool as spool_module

LOG_RUNS = """
    import sys

    import mltrace_otel as mltrace

    prefix, count = sys.argv[1], int(sys.argv[2])
    component = mltrace.Component("writer")
    for index in range(count):
        run = mltrace.ComponentRun("writer")
        run.set_start_timestamp()
        run.add_output(f"{prefix}-{index}.csv")
        run.set_end_timestamp()
        mltrace.log_component_run(run)
    assert mltrace.flush()
"""

READ = """
    import mltrace_otel as mltrace

    print(len(mltrace.get_recent_run_ids(limit=100000)))
"""


RAW_COUNT = """
    import mltrace_otel as mltrace

    print(mltrace.query("SELECT count() FROM otel_traces")[0][0])
"""


def _raw_rows(table: str) -> int:
    return state.store().query(f"SELECT count() FROM {table}").rows[0][0]


def _spool_files(home: Path) -> list[Path]:
    return sorted((home / "spool").rglob("*.arrow"))


def test_empty_truncated_and_foreign_files_are_quarantined_and_the_rest_ingests(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = write_script(tmp_path, "log.py", LOG_RUNS)
    run_script(script, home, "good", "20")
    spool = home / "spool"
    (published,) = _spool_files(home)
    whole = published.read_bytes()
    (spool / "1-1-empty.arrow").write_bytes(b"")
    (spool / "2-1-truncated.arrow").write_bytes(whole[: len(whole) // 2])
    (spool / "3-1-foreign.arrow").write_bytes(b"PK\x03\x04 not arrow at all" * 10)
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    table = pa.table({"name": ["x"], "size": [1]})
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    (spool / "4-1-other-arrow.arrow").write_bytes(sink.getvalue().to_pybytes())
    # A batch of an SDK that wrote fewer columns (an older release): ingested by column name.
    other_home = tmp_path / "other"
    run_script(script, other_home, "older", "3")
    (older,) = sorted((other_home / "spool").glob("*.arrow"))
    fewer = pa.ipc.open_file(pa.memory_map(str(older))).read_all().drop_columns(["ScopeVersion"])
    with pa.OSFile(str(spool / "5-1-older.arrow"), "wb") as out, \
            pa.ipc.new_file(out, fewer.schema) as writer:
        writer.write_table(fewer)

    with caplog.at_level("WARNING", logger="mltrace_otel"):
        assert len(mltrace.get_recent_run_ids(limit=1000)) == 23
    warnings = [record for record in caplog.records if "quarantine" in record.getMessage()]
    assert len(warnings) == 1, [record.getMessage() for record in caplog.records]
    assert "4 spool file(s)" in warnings[0].getMessage()
    quarantined = sorted(path.name for path in (spool / "quarantine").iterdir())
    assert quarantined == [
        "1-1-empty.arrow", "2-1-truncated.arrow", "3-1-foreign.arrow", "4-1-other-arrow.arrow",
    ]
    assert _spool_files(home) == sorted((spool / "quarantine").glob("*.arrow"))

    # Every later query and CLI command works; the warning is not repeated.
    run_script(script, home, "later", "5")
    caplog.clear()
    with caplog.at_level("WARNING", logger="mltrace_otel"):
        assert len(mltrace.get_recent_run_ids(limit=1000)) == 28
    assert not caplog.records


def test_a_writer_killed_while_publishing_leaves_no_debris(home: Path, tmp_path: Path) -> None:
    """A writer SIGKILLed mid-write leaves its temporary file; the next reader removes it
    (its writer is gone: it never becomes a batch), and keeps a live writer's."""
    run_script(write_script(tmp_path, "log.py", LOG_RUNS), home, "good", "3")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    spool = home / "spool"
    abandoned = spool / f".1-{int(dead.stdout)}-{uuid.uuid4().hex[:12]}.tmp"
    writing = spool / f".2-{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"
    # a writer whose pid this process cannot see (another pid namespace), begun just now
    unseen = spool / f".{time.time_ns()}-{int(dead.stdout)}-{uuid.uuid4().hex[:12]}.tmp"
    for path in (abandoned, writing, unseen):
        path.write_bytes(b"half a batch")
    assert len(mltrace.get_recent_run_ids(limit=100)) == 3
    assert not abandoned.exists() and writing.exists() and unseen.exists()
    writing.unlink()
    unseen.unlink()


def test_reader_killed_between_insert_and_cleanup_leaves_no_duplicate_rows(
    home: Path, tmp_path: Path
) -> None:
    writer = write_script(tmp_path, "log.py", LOG_RUNS)
    reader = write_script(tmp_path, "read.py", READ)
    run_script(writer, home, "a", "50")
    release_store()
    killed = subprocess.run(
        [sys.executable, str(reader)],
        env=subprocess_env(home, MLTRACE_FAULT="kill-after-insert"),
        capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
    )
    assert killed.returncode == -9, killed.stderr
    leftovers = list((home / "spool" / "claimed").glob("*/*.arrow"))
    assert len(leftovers) == 1  # inserted, never deleted

    run_script(writer, home, "b", "30")  # new files next to the leftover folder
    assert run_script(reader, home).stdout.split() == ["80"]
    assert _raw_rows("otel_traces") == 80
    assert _raw_rows("mltrace_runs") == 80
    assert _raw_rows("mltrace_io") == 80
    assert not _spool_files(home)


@contextlib.contextmanager
def _tiny_filesystem(tmp_path: Path, size_kib: int) -> Iterator[tuple[Path, str]]:
    """A real small filesystem (a tmpfs of ``size_kib``; mounting needs root). Yields its
    mount point and its kind."""
    mount_point = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(mount_point)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tiny tmpfs for the full-disk test: {done.stderr.strip()}")
    try:
        yield mount_point, "tmpfs"
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _fill(mount: Path) -> Path:
    """Fill the filesystem to its last block with one file; returns it."""
    filler = mount / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(descriptor, b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                os.write(descriptor, b"\0")
    finally:
        os.close(descriptor)
    return filler


FULL_DISK = """
    import os
    import sys
    from pathlib import Path

    import mltrace_otel as mltrace

    filler, count = Path(sys.argv[1]), int(sys.argv[2])
    for index in range(count):
        run = mltrace.ComponentRun("writer")
        run.set_start_timestamp()
        run.add_output(f"full-{index}-" + "x" * 200)
        run.set_end_timestamp()
        mltrace.log_component_run(run)
    print("flush-while-full", mltrace.flush(), flush=True)
    print("debris", sorted(p.name for p in Path(os.environ["MLTRACE_HOME"], "spool").iterdir()
                           if p.name.endswith(".tmp")), flush=True)
    if sys.argv[3] == "free":
        filler.unlink()
        print("flush-after-free", mltrace.flush(), flush=True)
"""


def test_full_disk_leaves_no_tmp_file_and_retries_while_the_process_lives(
    tmp_path: Path,
) -> None:
    script = write_script(tmp_path, "full.py", FULL_DISK)
    with _tiny_filesystem(tmp_path, 2048) as (mount, _kind):
        home = mount / "home"
        (home / "spool").mkdir(parents=True)
        filler = _fill(mount)
        proc = subprocess.run(
            [sys.executable, str(script), str(filler), "300", "free"],
            env=subprocess_env(home), capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr
        assert "flush-while-full False" in proc.stdout, proc.stdout + proc.stderr
        assert "debris []" in proc.stdout
        assert "flush-after-free True" in proc.stdout
        assert proc.stderr.count("could not write") == 1, proc.stderr
        assert "lost at exit" not in proc.stderr
        assert not list((home / "spool").glob(".*.tmp"))
        shutil.copytree(home, tmp_path / "copied")
    mltrace.configure(backend="local", home=tmp_path / "copied")
    assert len(mltrace.get_recent_run_ids(limit=1000)) == 300


def test_runs_still_undelivered_at_exit_are_named_in_one_warning(tmp_path: Path) -> None:
    script = write_script(tmp_path, "full.py", FULL_DISK)
    with _tiny_filesystem(tmp_path, 128) as (mount, _kind):
        home = mount / "home"
        (home / "spool").mkdir(parents=True)
        filler = _fill(mount)
        proc = subprocess.run(
            [sys.executable, str(script), str(filler), "40", "keep"],
            env=subprocess_env(home), capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr
        assert "debris []" in proc.stdout
        lost = [line for line in proc.stderr.splitlines() if "lost at exit" in line]
        assert len(lost) == 1, proc.stderr
        assert "40 run(s)" in lost[0]
        assert not [name for name in os.listdir(home / "spool") if name.endswith(".tmp")]


def test_a_full_disk_under_the_store_quarantines_nothing(tmp_path: Path) -> None:
    """The reader's disk fills up: queries fail with a clear error, no spool file is blamed,
    and once there is room again every run ingests exactly once."""
    writer = write_script(tmp_path, "log.py", LOG_RUNS)
    reader = write_script(tmp_path, "read.py", READ)
    with _tiny_filesystem(tmp_path, 64 << 10) as (mount, _kind):
        home = mount / "home"
        run_script(reader, home)  # the store exists, empty
        run_script(writer, home, "a", "2000")
        filler = _fill(mount)
        proc = subprocess.run(
            [sys.executable, str(reader)], env=subprocess_env(home),
            capture_output=True, text=True, timeout=PROCESS_TIMEOUT,
        )
        assert proc.returncode != 0
        assert "files are kept" in proc.stderr, proc.stderr
        assert not (home / "spool" / "quarantine").exists()
        filler.unlink()
        assert run_script(reader, home).stdout.split() == ["2000"]
        assert not (home / "spool" / "quarantine").exists()
        raw = write_script(tmp_path, "raw.py", RAW_COUNT)
        assert run_script(raw, home).stdout.split() == ["2000"]


def _run_while_read_only(
    mount: Path, script: Path, home: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` while the filesystem at ``mount`` is remounted read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    try:
        return subprocess.run([sys.executable, str(script)], env=subprocess_env(home),
                              capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)


def test_a_read_only_spool_folder_leaves_queries_working(tmp_path: Path) -> None:
    """Readers cannot claim files in a read-only spool: queries answer from the store with
    one warning, and take the runs once the folder is writable again."""
    writer = write_script(tmp_path, "log.py", LOG_RUNS)
    reader = write_script(tmp_path, "read.py", READ)
    home = tmp_path / "home"
    run_script(writer, home, "stored", "5")
    run_script(reader, home)  # ingests them
    with _tiny_filesystem(tmp_path, 4096) as (mount, _kind):
        spool = home / "spool"
        shutil.rmtree(spool)
        spool.symlink_to(mount)
        run_script(writer, home, "waiting", "7")
        proc = _run_while_read_only(mount, reader, home)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["5"]
        (warning,) = proc.stderr.splitlines()
        assert "cannot take runs from the spool" in warning
        assert run_script(reader, home).stdout.split() == ["12"]

        # A claim folder a killed reader left: inserted, but not released while read-only.
        run_script(writer, home, "left", "4")
        left = mount / spool_module.CLAIMED / "1-1-left"
        left.mkdir(parents=True)
        for published in mount.glob("*.arrow"):
            published.rename(left / published.name)
        proc = _run_while_read_only(mount, reader, home)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["16"]
        assert "cannot take runs from the spool" in proc.stderr
        assert run_script(reader, home).stdout.split() == ["16"]
        raw = write_script(tmp_path, "raw.py", RAW_COUNT)
        assert run_script(raw, home).stdout.split() == ["16"]  # the leftover: no row twice
        assert not any(left.parent.iterdir())
