"""How local processes find a running ``mltrace serve``: ``MLTRACE_HOME/server.json``.

The file holds the server's URL, its pid and a key for a local user that exists only while
that server runs; it is readable by its owner only (mode 0600) and removed on exit. A file
left by a killed server is recognised (dead pid, or no answer to ``/ping``) and ignored.
Light on purpose: pipeline and CLI processes import it; it never imports aiohttp or chDB.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from mltrace_otel.store.lock import process_alive

FILE_NAME = "server.json"
LOCAL_USER = "mltrace-local"
PROBE_SECONDS = 1.0

COMMAND_PATH = "/mltrace/command"
"""Where the server runs ``mltrace`` store commands for the local user (``server.commands``)."""

STORE_COMMANDS = frozenset({
    "recent", "history", "inspect", "trace", "components", "tags", "sql", "flag", "unflag",
    "review", "impact", "stale", "note", "init-db", "clear",
})
"""CLI commands that only use the store, so the server can run them for a local process."""


@dataclass(frozen=True)
class ServerInfo:
    """A running server as its discovery file describes it."""

    url: str  # the ClickHouse HTTP interface, without credentials
    pid: int
    key: str  # password of LOCAL_USER
    otlp_url: str | None = None

    @property
    def store_url(self) -> str:
        """The URL a local process's store connects with (credentials included)."""
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{LOCAL_USER}:{quote(self.key, safe='')}@{rest}"


def new_key() -> str:
    import secrets

    return secrets.token_urlsafe(24)


def write(home: Path, info: ServerInfo) -> Path:
    """Publish ``info`` atomically with owner-only permissions."""
    path = home / FILE_NAME
    temporary = home / f".{FILE_NAME}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": info.url, "pid": info.pid, "key": info.key,
                   "otlp_url": info.otlp_url}, handle)
    os.replace(temporary, path)
    return path


def remove(home: Path, pid: int) -> None:
    """Remove the discovery file if it is the one server ``pid`` wrote."""
    info = read(home)
    if info is not None and info.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            (home / FILE_NAME).unlink()


def read(home: Path) -> ServerInfo | None:
    """What the discovery file says, without checking that the server lives."""
    try:
        document = json.loads((home / FILE_NAME).read_text())
        return ServerInfo(str(document["url"]), int(document["pid"]), str(document["key"]),
                          document.get("otlp_url"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_server(home: Path) -> ServerInfo | None:
    """The server serving ``home``, if one is running and answers ``/ping``."""
    info = read(home)
    if info is None:
        return None
    if not process_alive(info.pid):
        with contextlib.suppress(OSError):
            (home / FILE_NAME).unlink()  # left by a killed server
        return None
    return info if ping(info.url) else None


def ping(url: str, timeout: float = PROBE_SECONDS) -> bool:
    """Whether a ClickHouse HTTP interface answers ``GET /ping`` at ``url``."""
    import http.client  # 25 ms: only when a server.json is there to check

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 8123,
                                            timeout=timeout)
    try:
        connection.request("GET", "/ping")
        response = connection.getresponse()
        return response.status == 200 and response.read().startswith(b"Ok.")
    except OSError:
        return False
    finally:
        connection.close()
