"""Spool ingestion into the embedded store: check, insert, quarantine, never duplicate.

Each claim folder (``mltrace_otel.sdk.spool.claim``) is inserted with one statement per
column layout, columns matched by name, its rows in the order they were logged. Before that
every file is opened with pyarrow: an empty, truncated or foreign file (not ``otel_traces``
rows) is moved to the quarantine folder and the rest ingests; one warning lists what was
moved.

A folder an earlier reader left behind (it was killed after inserting, before deleting) is
inserted with an anti-join on ``(TraceId, SpanId)`` against ``otel_traces`` in the batch's
time range, so rows already there are not inserted twice; the same path retries file by
file when a folder's insert fails, and a file that fails alone is quarantined.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from mltrace_otel.sdk import spool
from mltrace_otel.store.base import StoreError
from mltrace_otel.store.lock import process_alive

logger = logging.getLogger("mltrace_otel")

Execute = Callable[[str, Mapping[str, Any]], None]

REQUIRED_COLUMNS: Final = ("Timestamp", "TraceId", "SpanId")

_STORE_FAULTS: Final = (
    "NOT_ENOUGH_SPACE", "No space left", "Cannot reserve", "errno: 28", "CANNOT_WRITE",
    "Read-only file system", "MEMORY_LIMIT_EXCEEDED", "TOO_MANY_PARTS", "CANNOT_FSYNC",
)

INSERT_SETTINGS: Final = (
    "materialize_skip_indexes_on_insert = 0, optimize_on_insert = 0, parallel_view_processing = 1"
)
"""Settings of every spool insert. Skip indexes (the exporter's bloom filters on otel_traces)
are built when parts merge rather than per insert: queries that use them only read a few
more granules of a fresh part. ``optimize_on_insert = 0`` leaves the one-block dedup of the
ReplacingMergeTree tables to merges, which queries already allow for. Together they save
about a fifth of an insert's CPU. ``parallel_view_processing`` runs the views of
``otel_traces`` side by side instead of one after another: the run table's chain (runs, then
pointers and run starts) on one core, the exporter's trace-id view, components and
continuations on the other, 1.15-1.3x less wall time on two cores (bench/bench_ingest.py)."""

_PUBLISHED_ORDER: Final = " ORDER BY _file, rowNumberInAllBlocks()"
"""The rows in the order their files were published (names begin with the time) and, within
a file, the order the process exported them. A glob reads its files in no defined order, and
the views stamp ``LoggedAt`` in the order rows arrive (per block, and per row within one),
which SPEC 3.3 breaks ties by ("later logged"). Each file is read by one stream, whose blocks
take increasing ``rowNumberInAllBlocks`` numbers, so the key is unique and keeps a file's
order."""

ENV_FAULT: Final = "MLTRACE_FAULT"
"""Test-only fault injection: ``kill-after-insert`` SIGKILLs the reader between inserting a
claim folder and deleting it."""


def ingest(spool_dir: Path, columns: set[str], execute: Execute) -> int:
    """Insert every published spool file; returns how many files were inserted."""
    inserted = 0
    quarantined: list[tuple[Path, str]] = []
    try:
        for claim in spool.claim(spool_dir, writer_alive=process_alive):
            inserted += _ingest_claim(claim, spool_dir, columns, execute, quarantined)
    except OSError as error:  # a read-only spool folder: query what the store holds (a claim
        _warn_unclaimable(spool_dir, error)  # left behind is ingested as a leftover later)
    if quarantined:
        listed = "; ".join(f"{path.name}: {reason}" for path, reason in quarantined[:5])
        more = f"; and {len(quarantined) - 5} more" if len(quarantined) > 5 else ""
        logger.warning(
            "mltrace: moved %d spool file(s) that are not span batches to %s (%s%s)",
            len(quarantined), spool_dir / spool.QUARANTINE, listed, more,
        )
    return inserted


def _ingest_claim(
    claim: spool.Claim, spool_dir: Path, columns: set[str], execute: Execute,
    quarantined: list[tuple[Path, str]],
) -> int:
    """Insert one claim folder's files and release it; how many were inserted."""
    inserted = 0
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path in sorted(claim.folder.glob(f"*{spool.SUFFIX}")):
        names, reason = check(path, columns)
        if names is None:
            quarantined.append((spool.quarantine(spool_dir, path), reason))
        else:
            groups.setdefault(names, []).append(path)
    for names, paths in groups.items():
        # one layout (the usual case): the folder's glob; else the files by name
        pattern = f"{claim.folder}/*{spool.SUFFIX}" if len(groups) == 1 else _pattern(paths)
        inserted += _insert_group(spool_dir, names, paths, pattern, claim.leftover, execute,
                                  quarantined)
    if os.environ.get(ENV_FAULT) == "kill-after-insert":
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        spool.release(claim.folder)
    except OSError as error:  # inserted: the next reader ingests the folder as a leftover
        _warn_unclaimable(spool_dir, error)
    return inserted


_unclaimable_warned: set[Path] = set()


def _warn_unclaimable(spool_dir: Path, error: OSError) -> None:
    """One warning per spool folder and process."""
    if spool_dir not in _unclaimable_warned:
        _unclaimable_warned.add(spool_dir)
        logger.warning("mltrace: cannot take runs from the spool %s (%s); queries answer from "
                       "the store without them until it is writable", spool_dir, error)


def check(path: Path, columns: set[str]) -> tuple[tuple[str, ...] | None, str]:
    """The column names of a spool file, or None and why it cannot be ingested."""
    import pyarrow as pa  # only when there is a file to check: not on every store open

    try:
        if path.stat().st_size == 0:
            return None, "empty file"
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            names = tuple(reader.schema.names)
            for index in range(reader.num_record_batches):
                reader.get_batch(index)
    except (pa.ArrowException, OSError) as error:
        return None, f"not a whole Arrow file ({_first_line(error)})"
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    unknown = [name for name in names if name not in columns]
    if missing or unknown:
        return None, f"not otel_traces rows (missing {missing}, unknown {unknown[:3]})"
    return names, ""


def _insert_group(
    spool_dir: Path,
    names: tuple[str, ...],
    paths: list[Path],
    pattern: str,
    leftover: bool,
    execute: Execute,
    quarantined: list[tuple[Path, str]],
) -> int:
    try:
        execute(_insert_sql(names, deduplicate=leftover), {"path": pattern})
        return len(paths)
    except StoreError as error:
        _raise_if_store_fault(error)  # else some rows may be in: retry file by file
    inserted = 0
    for path in paths:
        try:
            execute(_insert_sql(names, deduplicate=True), {"path": str(path)})
            inserted += 1
        except StoreError as error:
            _raise_if_store_fault(error)
            reason = f"rejected by the store ({error})"
            quarantined.append((spool.quarantine(spool_dir, path), reason))
    return inserted


def _raise_if_store_fault(error: StoreError) -> None:
    """A full disk or a read-only store is not the file's fault: keep the files, report."""
    text = str(error)
    if any(marker in text for marker in _STORE_FAULTS):
        raise StoreError(
            f"could not ingest the spool ({text}); its files are kept and ingested by the "
            "next query"
        ) from error


def _pattern(paths: list[Path]) -> str:
    """One ``file()`` path for files of one folder (``{a,b}`` is ClickHouse's alternation)."""
    if len(paths) == 1:
        return str(paths[0])
    return f"{paths[0].parent}/{{{','.join(path.name for path in paths)}}}"


def _insert_sql(names: tuple[str, ...], *, deduplicate: bool) -> str:
    listed = ", ".join(f"`{name}`" for name in names)
    source = "file({path:String}, 'Arrow')"
    sql = (f"INSERT INTO otel_traces ({listed}) SETTINGS {INSERT_SETTINGS} "
           f"SELECT {listed} FROM {source}")
    if deduplicate:
        sql += (
            f" WHERE (TraceId, SpanId) NOT IN (SELECT TraceId, SpanId FROM otel_traces"
            f" WHERE Timestamp >= (SELECT min(Timestamp) FROM {source})"
            f" AND Timestamp <= (SELECT max(Timestamp) FROM {source}))"
        )
    return sql + _PUBLISHED_ORDER


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
