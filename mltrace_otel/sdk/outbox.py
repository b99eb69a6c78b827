"""The outbox: finished spans a backend could not take, kept on disk until it can.

Each file under ``$MLTRACE_HOME/outbox`` is one complete OTLP/HTTP request body (a serialized
``ExportTraceServiceRequest``, protobuf): lossless (typed attributes, events, links, status),
readable by any OpenTelemetry tool, and deliverable by hand
(``curl -H 'Content-Type: application/x-protobuf' --data-binary @FILE .../v1/traces``).
Replay decodes it back into SDK spans and hands them to the exporter of the replaying
process's server backend (``otlp`` or ``clickhouse``, whichever process wrote them); a
``local`` process leaves the outbox alone, since its runs go to the spool.

Files are written to a temporary name, fsynced and renamed, so a file is whole or absent. The
name is ``<ns>-<pid>-<random>-<spans>.binpb``: age and span count without opening it. The
outbox is bounded by ``MLTRACE_OUTBOX_MAX_BYTES`` and ``MLTRACE_OUTBOX_MAX_FILES``; past
either bound the oldest files are deleted and the caller warns with the number of spans lost.
One process delivers at a time (an advisory lock on ``.lock``); a file that does not decode
is moved to ``quarantine/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final

from opentelemetry.sdk.trace import ReadableSpan

from mltrace_otel.config import number_env

logger = logging.getLogger("mltrace_otel")

ENV_MAX_BYTES: Final = "MLTRACE_OUTBOX_MAX_BYTES"
"""Most bytes the outbox holds. Default 256 MiB."""

ENV_MAX_FILES: Final = "MLTRACE_OUTBOX_MAX_FILES"
"""Most files (export batches) the outbox holds. Default 10,000."""

DEFAULT_MAX_BYTES: Final = 256 << 20
DEFAULT_MAX_FILES: Final = 10_000
SUFFIX: Final = ".binpb"
QUARANTINE: Final = "quarantine"


def span_count(path: Path) -> int:
    """Spans in an outbox file, from its name."""
    try:
        return int(path.name[: -len(SUFFIX)].rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


class Outbox:
    """A folder of undelivered export batches, oldest first."""

    def __init__(
        self, folder: Path, max_bytes: int | None = None, max_files: int | None = None
    ) -> None:
        self.folder = folder
        self.max_bytes = max_bytes or number_env(ENV_MAX_BYTES, DEFAULT_MAX_BYTES)
        self.max_files = max_files or number_env(ENV_MAX_FILES, DEFAULT_MAX_FILES)

    def files(self) -> list[Path]:
        """The undelivered batches, oldest first."""
        try:
            names = [entry.name for entry in os.scandir(self.folder)]
        except (FileNotFoundError, NotADirectoryError):  # none yet, or a file in its way
            return []
        return [self.folder / name for name in sorted(names) if name.endswith(SUFFIX)]

    def pending_spans(self) -> int:
        """Spans waiting in the outbox (all processes)."""
        return sum(span_count(path) for path in self.files())

    def put(self, spans: Sequence[ReadableSpan]) -> int:
        """Store ``spans`` as one file; returns how many older spans the bound dropped.

        Raises ``OSError`` when the file cannot be written (e.g. a full disk).
        """
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        payload = encode_spans(spans).SerializeToString()
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{len(spans)}"
        temporary = self.folder / f".{name}.tmp"
        try:
            with open(temporary, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.folder / f"{name}{SUFFIX}")
        finally:
            temporary.unlink(missing_ok=True)
        return self._enforce_bound()

    def _enforce_bound(self) -> int:
        files = self.files()
        sizes = {}
        for path in files:
            with contextlib.suppress(FileNotFoundError):
                sizes[path] = path.stat().st_size
        total = sum(sizes.values())
        dropped = 0
        for path in files:
            if len(sizes) <= self.max_files and total <= self.max_bytes:
                break
            if path not in sizes or len(sizes) == 1:
                continue  # gone already, or the newest batch: always keep one
            total -= sizes.pop(path)
            path.unlink(missing_ok=True)
            dropped += span_count(path)
        return dropped

    def deliver(self, export: Callable[[list[ReadableSpan]], bool]) -> bool:
        """Replay batches oldest first through ``export`` until one fails.

        Returns True when the outbox is empty afterwards. Another process delivering at the
        same time is not waited for (its files still count as undelivered).
        """
        if not self.files():
            return True
        with self._lock() as locked:
            if not locked:
                return not self.files()
            from mltrace_otel.sdk.otlp_decode import spans_from_request

            for path in self.files():
                try:
                    spans = spans_from_request(path.read_bytes())
                except FileNotFoundError:
                    continue
                except Exception as error:  # a foreign or damaged file: set it aside
                    self._quarantine(path, error)
                    continue
                if not export(spans):
                    return False
                path.unlink(missing_ok=True)
        return not self.files()

    @contextlib.contextmanager
    def _lock(self) -> Iterator[bool]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = open(self.folder / ".lock", "a")  # noqa: SIM115 (held across the yield)
        except OSError:
            yield False
            return
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            handle.close()

    def _quarantine(self, path: Path, error: Exception) -> None:
        target = self.folder / QUARANTINE
        try:
            target.mkdir(exist_ok=True)
            os.replace(path, target / path.name)
        except OSError:
            path.unlink(missing_ok=True)
        logger.warning(
            "mltrace: outbox file %s could not be read (%s); moved to %s", path.name, error, target
        )
