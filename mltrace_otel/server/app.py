"""``mltrace serve``: one process, one asyncio loop, the embedded store as a server.

- ClickHouse's HTTP interface on ``port`` (``clickhouse_http``), the OTLP/HTTP receiver on
  ``otlp_port`` (``otlp``, when present), both aiohttp;
- the chDB session on its own worker thread (``engine``), holding the store lock;
- the spool ingested every ``INGEST_SECONDS``, so runs logged by pipeline processes and OTLP
  appear without anyone querying;
- ``server.json`` in ``MLTRACE_HOME`` while it runs (``discovery``);
- SIGTERM/SIGINT: stop accepting, finish requests in flight, ingest the spool a last time,
  close chDB, remove ``server.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import ipaddress
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from mltrace_otel.config import ConfigurationError, Settings
from mltrace_otel.server import discovery
from mltrace_otel.server.auth import DEFAULT_USER, User, Users
from mltrace_otel.server.clickhouse_http import Limits, clickhouse_application
from mltrace_otel.server.commands import Runner, command_route
from mltrace_otel.server.engine import Engine

logger = logging.getLogger("mltrace_otel.server")

INGEST_SECONDS = 0.5
SHUTDOWN_GRACE_SECONDS = 30.0
MAX_URL_BYTES = 1 << 20  # ClickHouse's http_max_uri_size
MAX_HEADER_BYTES = 128 << 10  # ClickHouse's http_max_field_value_size


@dataclass(frozen=True)
class ServeOptions:
    """What ``mltrace serve`` listens on and who may use it."""

    host: str = "127.0.0.1"
    port: int = 8123
    otlp_port: int = 4318  # 0: no OTLP listener
    password: str = ""  # of user ``default``
    readonly_user: str | None = None
    readonly_password: str = ""
    limits: Limits = field(default_factory=Limits)
    run_command: Runner | None = None  # runs CLI commands for local processes (cli.captured)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def users_for(options: ServeOptions, local_key: str) -> Users:
    """The server's users; refuses a non-loopback bind where a user has no password."""
    users = [User.with_password(DEFAULT_USER, options.password)]
    if options.readonly_user:
        users.append(User.with_password(options.readonly_user, options.readonly_password, 1))
    if not is_loopback(options.host):
        open_users = [user.name for user in users if not user.has_password]
        if open_users:
            raise ConfigurationError(
                f"refusing to listen on {options.host} (not loopback) while user(s) "
                f"{', '.join(open_users)} have no password: set MLTRACE_SERVE_PASSWORD "
                "(and MLTRACE_SERVE_READONLY_PASSWORD), or bind 127.0.0.1"
            )
    users.append(User.with_password(discovery.LOCAL_USER, local_key))
    return Users(users)


def serve(settings: Settings, options: ServeOptions,
          ready: Callable[[discovery.ServerInfo], None] | None = None) -> None:
    """Run the server until SIGTERM or SIGINT."""
    local_key = discovery.new_key()
    users = users_for(options, local_key)
    asyncio.run(_Server(settings, options, users, local_key).run(ready))


class _Server:
    def __init__(self, settings: Settings, options: ServeOptions, users: Users,
                 local_key: str) -> None:
        self._settings = settings
        self._options = options
        self._users = users
        self._local_key = local_key
        self._engine = Engine(settings, options.limits.query_seconds)
        self._runners: list[web.AppRunner] = []

    async def run(self, ready: Callable[[discovery.ServerInfo], None] | None) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        self._settings.home.mkdir(parents=True, exist_ok=True)
        await self._engine.call(self._engine.open)
        info: discovery.ServerInfo | None = None
        ingesting: asyncio.Task[None] | None = None
        warming: asyncio.Future[None] | None = None
        try:
            await self._listen(
                clickhouse_application(self._engine, self._users, self._options.limits,
                                       self._command_routes()),
                self._options.port,
            )
            otlp_url = await self._start_otlp()
            info = discovery.ServerInfo(
                f"http://{_connect_host(self._options.host)}:{self._options.port}",
                os.getpid(), self._local_key, otlp_url,
            )
            discovery.write(self._settings.home, info)
            ingesting = asyncio.create_task(self._ingest_forever())
            if ready is not None:
                ready(info)
            warming = asyncio.ensure_future(self._engine.call(self._engine.warm_index))
            await stop.wait()
        finally:
            if info is not None:
                discovery.remove(self._settings.home, info.pid)
            for runner in reversed(self._runners):  # OTLP first: its spool files get ingested
                await runner.cleanup()
            if warming is not None:
                await warming  # runs on the chDB thread: close() would wait for it anyway
            if ingesting is not None:
                ingesting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ingesting
            await self._engine.call(self._engine.close)
            self._engine.shutdown()

    async def _listen(self, app: web.Application, port: int) -> None:
        """Serve ``app`` on ``port``. The applications decode content codings themselves
        (``content_coding``): aiohttp would answer a coding it lacks with its own 400."""
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               auto_decompress=False,
                               shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
                               max_line_size=MAX_URL_BYTES, max_field_size=MAX_HEADER_BYTES)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self._options.host, port, reuse_address=True)
        await site.start()

    def _command_routes(self) -> list[web.RouteDef]:
        runner = self._options.run_command
        return [] if runner is None else [command_route(self._engine, self._users, runner)]

    async def _start_otlp(self) -> str | None:
        if not self._options.otlp_port:
            return None
        if importlib.util.find_spec("mltrace_otel.server.otlp") is None:
            logger.warning("mltrace serve: no OTLP receiver in this installation")
            return None
        from mltrace_otel.server.otlp import otlp_application

        await self._listen(otlp_application(self._settings), self._options.otlp_port)
        return f"http://{_connect_host(self._options.host)}:{self._options.otlp_port}"

    async def _ingest_forever(self) -> None:
        while True:
            await asyncio.sleep(INGEST_SECONDS)
            try:
                await self._engine.call(self._engine.ingest)
            except Exception as error:  # keep serving; the next round retries
                logger.warning("mltrace serve: spool ingest failed: %s", error)


def _connect_host(host: str) -> str:
    """Where a local client connects to reach a server bound to ``host``."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
