"""The ``mltrace`` script: store commands go to a running ``mltrace serve`` when one serves
this home (its warm store and lineage index answer in milliseconds, and this process loads
neither click nor chDB), everything else runs here.

Only the standard library is imported before the decision. A command is handed over only if
it reads or writes the local store (no ``--url``/``--address``, backend ``local``); when the
server cannot be reached before the request is sent, or does not offer the command endpoint,
the command runs in this process as it would without a server. Once sent, it is never run a
second time here (``flag`` or ``note`` would be applied twice).

A store command run here ends with :func:`exit_now`: its exit functions close the store, and
the interpreter's and chDB's teardown after them (~90 ms, a fifth of the command) is skipped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import threading
from typing import Any, NoReturn
from urllib.parse import urlsplit

from mltrace_otel.server import discovery
from mltrace_otel.store.lock import process_alive

_LOCAL_OPTIONS = ("--url", "--address", "--help", "-h")


def run() -> None:
    """Entry point of the ``mltrace`` script."""
    _warn_if_the_url_is_unused(sys.argv[1:])
    code = forward(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from mltrace_otel.cli.commands import main

    if not (sys.argv[1:2] and sys.argv[1] in discovery.STORE_COMMANDS):
        main(prog_name="mltrace")
        return
    from mltrace_otel.store import local

    local.chdb_without_pyarrow = True
    try:
        main(prog_name="mltrace")
    except SystemExit as done:  # click ends every command this way
        exit_now(done.code)
    exit_now(0)


def exit_now(code: object) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, once the exit functions (the store's
    close among them) have run and the output is flushed, without the interpreter's teardown.

    Falls back to ``sys.exit`` while another non-daemon thread runs: that one is waited for.
    """
    if any(thread.is_alive() and not thread.daemon for thread in threading.enumerate()
           if thread is not threading.current_thread()):
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    import atexit

    atexit._run_exitfuncs()  # what the interpreter runs first on the way out
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`mltrace recent | head`)
            stream.flush()
    os._exit(status)


def _warn_if_the_url_is_unused(args: list[str]) -> None:
    """A store command with MLTRACE_CLICKHOUSE_URL set but no MLTRACE_BACKEND: the default
    backend, local, ignores the URL; say so (in this process: the user's environment) rather
    than answer from an empty embedded store."""
    from mltrace_otel import config

    if (args and args[0] in discovery.STORE_COMMANDS
            and not any(arg.split("=", 1)[0] in _LOCAL_OPTIONS for arg in args[1:])
            and os.environ.get(config.ENV_CLICKHOUSE_URL)
            and not os.environ.get(config.ENV_BACKEND)):
        print(f"mltrace: {config.ENV_CLICKHOUSE_URL} is set but {config.ENV_BACKEND} is not, so "
              f"this reads the embedded store under MLTRACE_HOME; set {config.ENV_BACKEND}="
              "clickhouse (or otlp) to query that server", file=sys.stderr)


def forward(args: list[str]) -> int | None:
    """Run ``mltrace ARGS`` on this home's ``mltrace serve``; its exit code, or None when it
    must run in this process."""
    if not args or args[0] not in discovery.STORE_COMMANDS:
        return None
    if any(arg.split("=", 1)[0] in _LOCAL_OPTIONS for arg in args[1:]):
        return None
    from mltrace_otel import config

    try:
        settings = config.resolve()
    except config.ConfigurationError:
        return None  # the command reports it the usual way
    if settings.backend != "local":
        return None
    server = discovery.read(settings.home)
    if server is None or not process_alive(server.pid):
        return None
    reply = _post(server, {"args": args, **_terminal()})
    if reply is None:
        return None
    sys.stdout.write(reply.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(reply.get("stderr", ""))
    return int(reply.get("exit_code", 1))


def _terminal() -> dict[str, Any]:
    """How the server should render for this terminal (rich's width, colours)."""
    import shutil

    terminal = sys.stdout.isatty()
    return {"terminal": terminal,
            "width": shutil.get_terminal_size().columns if terminal else None,
            "no_color": "NO_COLOR" in os.environ}


def _post(server: discovery.ServerInfo, document: dict[str, Any]) -> dict[str, Any] | None:
    """POST the command; None when it was not delivered (nothing ran on the server)."""
    import http.client  # 25 ms: only with a server to talk to

    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 8123,
                                            timeout=discovery.PROBE_SECONDS)
    credentials = base64.b64encode(f"{discovery.LOCAL_USER}:{server.key}".encode()).decode()
    try:
        try:
            connection.connect()
        except OSError:
            return None  # a server that stopped without removing server.json
        connection.sock.settimeout(None)  # a long review or rebuild is the user's to wait for
        connection.request("POST", discovery.COMMAND_PATH, body=json.dumps(document).encode(),
                           headers={"Authorization": f"Basic {credentials}",
                                    "Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
    except OSError as error:
        return {"exit_code": 1, "stderr": f"Error: mltrace serve at {server.url} did not "
                                          f"answer the command: {error}\n"}
    finally:
        connection.close()
    if response.status == 404:
        return None  # a server without the command endpoint: it ran nothing
    try:
        reply = json.loads(body)
        if response.status == 200 and isinstance(reply, dict):
            return reply
    except ValueError:
        pass
    detail = body.decode(errors="replace").strip().splitlines()[:1]
    return {"exit_code": 1, "stderr": f"Error: mltrace serve at {server.url} refused the "
                                      f"command (HTTP {response.status}: {''.join(detail)})\n"}
