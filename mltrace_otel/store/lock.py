"""The embedded store's process lock: an exclusive ``flock`` that waiters can ask for.

chDB allows one process at a time on a store folder. The holder writes its PID into the
lock file. A process that has to wait leaves a flag named after its PID in
``store.waiters/``; a holder checks for flags between queries and lets the lock go (after
holding it at least ``MIN_HOLD_SECONDS``), so a waiter gets the store within about one query
even while another process queries continuously. A holder that yielded waits until the
waiter took the lock before competing for it again. The timeout error names the holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

from mltrace_otel.secrets import redact
from mltrace_otel.store.base import StoreError

MIN_HOLD_SECONDS: Final = 0.25
"""A holder keeps the store at least this long before yielding to a waiter."""

_POLL_SECONDS: Final = 0.01
_HANDOVER_SECONDS: Final = 2.0
_SERVED_CHECK_SECONDS: Final = 0.25


class StoreServed(StoreError):
    """A server (``mltrace serve``) took the store while this process waited for it."""


class StoreLock:
    """The lock file ``<home>/store.lock`` and its waiter flags ``<home>/store.waiters/``."""

    def __init__(self, home: Path) -> None:
        self._path = home / "store.lock"
        self._waiters = home / "store.waiters"
        self._handle: IO[str] | None = None
        self.acquired_at = 0.0

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(
        self, timeout: float, *, after_yield: bool = False,
        served: Callable[[], bool] | None = None,
    ) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; ``after_yield`` first lets the
        waiters this process yielded to take it. While it waits, ``served()`` is asked every
        quarter second whether a server now holds the store: then it raises StoreServed."""
        if after_yield:
            self._let_waiters_in()
        handle = open(self._path, "a+")  # noqa: SIM115 (held open while the lock is held)
        try:
            if not _try_lock(handle):
                self._wait(handle, timeout, served)
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        self.acquired_at = time.monotonic()

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def should_yield(self) -> bool:
        """Whether another process waits and this one held the lock long enough."""
        return (
            self._handle is not None
            and time.monotonic() - self.acquired_at >= MIN_HOLD_SECONDS
            and bool(self._other_waiters())
        )

    # -- internals -------------------------------------------------------------------------
    def _wait(
        self, handle: IO[str], timeout: float, served: Callable[[], bool] | None
    ) -> None:
        flag = self._waiters / str(os.getpid())
        with contextlib.suppress(OSError):
            self._waiters.mkdir(exist_ok=True)
            flag.touch()
        deadline = time.monotonic() + timeout
        next_check = time.monotonic()
        try:
            while not _try_lock(handle):
                now = time.monotonic()
                if served is not None and now >= next_check:
                    next_check = now + _SERVED_CHECK_SECONDS
                    if served():
                        raise StoreServed(f"the store at {self._path.parent} is served by "
                                          f"{self._holder()}")
                if now >= deadline:
                    raise StoreError(
                        f"the store at {self._path.parent} is in use by {self._holder()}; "
                        f"waited {timeout:.0f}s (set MLTRACE_LOCK_TIMEOUT to wait longer)"
                    )
                time.sleep(_POLL_SECONDS)
        finally:
            with contextlib.suppress(OSError):
                flag.unlink()

    def _other_waiters(self) -> list[int]:
        try:
            names = os.listdir(self._waiters)
        except OSError:
            return []
        waiting = []
        for name in names:
            if not name.isdigit() or int(name) == os.getpid():
                continue
            if process_alive(int(name)):
                waiting.append(int(name))
            else:  # a waiter that died while waiting
                with contextlib.suppress(OSError):
                    (self._waiters / name).unlink()
        return waiting

    def _let_waiters_in(self) -> None:
        deadline = time.monotonic() + _HANDOVER_SECONDS
        while self._other_waiters() and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)

    def _holder(self) -> str:
        try:
            pid = int(self._path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return "another process"
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            raw = b""
        words = raw.decode(errors="replace").split("\0")
        command = " ".join(os.path.basename(word) if "/" in word else word for word in words)
        command = " ".join(command.split())  # one line: `python -c "<newlines>"` too
        if len(command) > 80:
            command = command[:77] + "..."
        return f"process {pid} ({redact(command)})" if command else f"process {pid}"


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
