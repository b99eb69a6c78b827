"""``POST /mltrace/command``: an ``mltrace`` store command, run for a local process on the
server's open store and warm lineage index (the ``mltrace`` script's fast path).

Only the local user of ``server.json`` (an owner-only file) may call it. The command runs on
the chDB thread, one at a time, as the CLI would run it in its own process; the runner comes
from the CLI wing (``cli.captured``), so the server never imports click commands. Request:
``{"args": [...], "terminal": bool, "width": int | null, "no_color": bool}``; reply:
``{"exit_code": int, "stdout": str, "stderr": str}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mltrace_otel import state
from mltrace_otel.server.auth import Users
from mltrace_otel.server.discovery import COMMAND_PATH, LOCAL_USER, STORE_COMMANDS
from mltrace_otel.server.engine import Engine
from mltrace_otel.server.errors import ClickHouseError

Runner = Callable[[list[str], bool, "int | None", bool], tuple[int, str, str]]
"""Runs ``mltrace ARGS`` (args, terminal, width, no_color): exit code, stdout, stderr."""


@dataclass(frozen=True)
class CommandRequest:
    """One CLI invocation and how the caller's terminal renders."""

    args: tuple[str, ...]
    terminal: bool = False
    width: int | None = None
    no_color: bool = False

    @classmethod
    def from_json(cls, document: Any) -> CommandRequest:
        """Validate a request body; ``ValueError`` says what is wrong."""
        if not isinstance(document, dict):
            raise ValueError("the body must be a JSON object")
        args = document.get("args")
        if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
            raise ValueError("args must be a list of strings")
        if not args or args[0] not in STORE_COMMANDS:
            raise ValueError(f"only store commands run here: {', '.join(sorted(STORE_COMMANDS))}")
        width = document.get("width")
        if width is not None and (type(width) is not int or not 20 <= width <= 1000):
            raise ValueError("width must be an integer from 20 to 1000")
        return cls(tuple(args), bool(document.get("terminal")), width,
                   bool(document.get("no_color")))


def command_route(engine: Engine, users: Users, runner: Runner) -> web.RouteDef:
    """The route to add to the ClickHouse HTTP application."""

    def run(command: CommandRequest) -> dict[str, Any]:  # on the chDB thread
        engine.ingest_quietly()  # read-your-writes, as for every query
        with engine.own_queries() as store:
            state.serve_store(engine.settings, store)
            code, stdout, stderr = runner(list(command.args), command.terminal, command.width,
                                          command.no_color)
        return {"exit_code": code, "stdout": stdout, "stderr": stderr}

    async def handle(request: web.Request) -> web.Response:
        try:
            user = users.authenticate(request.headers, request.query)
        except ClickHouseError as error:
            return web.Response(status=403, text=error.message)
        if user.name != LOCAL_USER:
            return web.Response(status=403, text="only local mltrace processes run commands here")
        try:
            command = CommandRequest.from_json(await request.json())
        except ValueError as error:  # json.JSONDecodeError included
            return web.Response(status=400, text=str(error))
        return web.json_response(await engine.call(run, command))

    return web.post(COMMAND_PATH, handle)
