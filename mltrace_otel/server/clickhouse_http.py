"""ClickHouse's HTTP interface over the embedded store (aiohttp).

What a request may carry, as ClickHouse takes it: ``query`` in the URL and/or the body (the
body is appended after a newline), ``INSERT ... FORMAT <fmt>`` with the data after it,
``param_<name>`` bound parameters, ``database``, ``default_format``, ``query_id``, settings as
URL parameters (accepted; only settings written in the SQL are applied), form-encoded bodies
(``query`` and ``param_*`` fields), ``Content-Encoding`` (gzip, deflate, zstd, lz4, br when
installed), ``decompress=1`` / ``compress=1`` compressed blocks, ``enable_http_compression=1``
with ``Accept-Encoding``, and ``client_protocol_version`` for Native results. GET requests
run with ``readonly=2``, as in ClickHouse.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from mltrace_otel.server import native, sqltext
from mltrace_otel.server.auth import User, Users
from mltrace_otel.server.content_coding import ENCODERS, decode
from mltrace_otel.server.engine import READ_ONLY_KINDS, Engine, Outcome, Statement
from mltrace_otel.server.errors import ClickHouseError

DEFAULT_FORMAT = "TabSeparated"
_QUERY_HEAD_LIMIT = 1 << 18  # how far into a body the INSERT ... FORMAT header may reach

_CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8; header=absent",
    "CSVWithNames": "text/csv; charset=UTF-8; header=present",
}


@dataclass(frozen=True)
class Limits:
    """Request limits: body bytes (compressed and decompressed) and seconds per query."""

    max_body_bytes: int = 256 << 20
    query_seconds: float = 300.0


def clickhouse_application(engine: Engine, users: Users, limits: Limits,
                           routes: Sequence[web.RouteDef] = ()) -> web.Application:
    """The aiohttp application serving ClickHouse's HTTP interface (and ``routes`` of
    mltrace's own, matched first)."""
    app = web.Application(client_max_size=limits.max_body_bytes)
    interface = _Interface(engine, users, limits)
    app.router.add_get("/ping", _ping)
    app.router.add_routes(routes)
    app.router.add_route("*", "/{tail:.*}", interface.handle)
    return app


async def _ping(request: web.Request) -> web.Response:
    return web.Response(text="Ok.\n")


class _Interface:
    def __init__(self, engine: Engine, users: Users, limits: Limits) -> None:
        self._engine = engine
        self._users = users
        self._limits = limits

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query_id = request.query.get("query_id") or str(uuid.uuid4())
        compress_blocks = request.query.get("compress") == "1"
        try:
            if request.method not in ("GET", "POST"):
                raise ClickHouseError(48, f"HTTP method {request.method} is not supported",
                                      "NOT_IMPLEMENTED")
            user = self._users.authenticate(request.headers, request.query)
            fields, body = await self._read(request)
            if request.method == "GET" and not fields.get("query") and not body:
                return web.Response(text="Ok.\n")
            statement = self._statement(request, user, fields, body)
            outcome = await asyncio.wait_for(
                self._engine.call(self._engine.execute, statement),
                timeout=self._limits.query_seconds + 5,
            )
        except ClickHouseError as error:
            return self._error(request, error, query_id, compress_blocks)
        except web.HTTPRequestEntityTooLarge as error:
            return self._error(request, _too_large(error.text), query_id, compress_blocks)
        except (TimeoutError, asyncio.TimeoutError):
            limit = self._limits.query_seconds
            error = ClickHouseError(159, f"Timeout exceeded: elapsed more than {limit} seconds",
                                    "TIMEOUT_EXCEEDED")
            return self._error(request, error, query_id, compress_blocks)
        return self._response(request, statement, outcome, query_id, compress_blocks)

    # -- request -------------------------------------------------------------------------------
    async def _read(self, request: web.Request) -> tuple[dict[str, str], bytes]:
        """URL parameters merged with form fields, and the decoded body."""
        fields = dict(request.query)
        if request.content_type == "multipart/form-data":
            for name, value in (await request.post()).items():
                if not isinstance(value, str):
                    raise ClickHouseError(48, "external data is not supported",
                                          "NOT_IMPLEMENTED")
                fields[name] = value
            return fields, b""
        body = await request.read()
        limit = self._limits.max_body_bytes
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        try:
            if encoding:
                body = decode(body, encoding, limit)
            if fields.get("decompress") == "1" and body:
                body = native.decompress_blocks(body, limit)
        except OverflowError as error:
            raise _too_large(str(error)) from None
        except (native.CompressionError, ValueError, OSError, RuntimeError) as error:
            raise ClickHouseError(271, f"Cannot decompress the request body: {error}",
                                  "CANNOT_DECOMPRESS") from None
        return fields, body

    def _statement(
        self, request: web.Request, user: User, fields: Mapping[str, str], body: bytes
    ) -> Statement:
        # a client may ask for readonly (ClickHouse's readonly setting), never lower its own
        readonly = max(user.readonly, 2 if request.method == "GET" else 0,
                       min(_int(fields.get("readonly")), 2))
        parameters = {name[6:]: value for name, value in fields.items()
                      if name.startswith("param_")}
        database = fields.get("database") or "default"
        default_format = fields.get("default_format") or DEFAULT_FORMAT
        revision = _int(fields.get("client_protocol_version"))
        url_query = fields.get("query", "")
        prefix = url_query.encode() + b"\n" if url_query else b""
        head = (prefix + body[:_QUERY_HEAD_LIMIT]).decode("latin-1")  # offsets = byte offsets
        insert = sqltext.insert_with_data(head)
        if insert is not None:
            if readonly:
                raise _readonly(user)
            start = insert.data_start - len(prefix)
            data = body[start:] if start >= 0 else prefix[insert.data_start:] + body
            target = insert.target.encode("latin-1").decode("utf-8", "replace")
            return Statement(f"INSERT INTO {target}", insert.fmt, parameters, database,
                             insert_data=data)
        sql = (prefix + body).decode("utf-8", "replace") if body else url_query
        try:
            found = sqltext.single_statement(sqltext.tokens(sql))
        except sqltext.SqlTextError as error:
            raise ClickHouseError(62, f"Syntax error: {error}", "SYNTAX_ERROR") from None
        writes = sqltext.statement_kind(found) not in READ_ONLY_KINDS
        if readonly and writes:
            raise _readonly(user)
        if sqltext.writes_outfile(found):
            raise ClickHouseError(358, "INTO OUTFILE is not allowed", "INTO_OUTFILE_NOT_ALLOWED")
        fmt = sqltext.output_format(found) or default_format
        return Statement(sql, fmt, parameters, database, readonly, protocol_revision=revision,
                         writes=writes)

    # -- response ------------------------------------------------------------------------------
    def _headers(self, query_id: str, fmt: str | None = None) -> dict[str, str]:
        headers = {
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Server-Display-Name": self._engine.display_name,
        }
        if fmt:
            headers["X-ClickHouse-Format"] = fmt
            headers["Content-Type"] = _content_type(fmt)
        return headers

    def _response(
        self, request: web.Request, statement: Statement, outcome: Outcome, query_id: str,
        compress_blocks: bool,
    ) -> web.Response:
        headers = self._headers(query_id, None if statement.insert_data is not None
                                else statement.fmt)
        headers["X-ClickHouse-Summary"] = json.dumps({
            "read_rows": str(outcome.read_rows),
            "read_bytes": str(outcome.read_bytes),
            "written_rows": str(outcome.written_rows),
            "written_bytes": str(outcome.written_bytes),
            "total_rows_to_read": str(outcome.read_rows),
            "result_rows": "0",
            "result_bytes": str(len(outcome.body)),
            "elapsed_ns": str(outcome.elapsed_ns),
        }, separators=(",", ":"))
        body = outcome.body
        if compress_blocks and body:
            body = native.compress_blocks(body)
        body = self._encode(request, body, headers)
        headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        return web.Response(body=body, headers=headers)

    def _error(
        self, request: web.Request, error: ClickHouseError, query_id: str, compress_blocks: bool
    ) -> web.Response:
        if not error.version:
            error.version = self._engine.version
        headers = self._headers(query_id)
        headers["X-ClickHouse-Exception-Code"] = str(error.code)
        headers["Content-Type"] = "text/plain; charset=UTF-8"
        if error.code == 194:
            headers["WWW-Authenticate"] = 'Basic realm="ClickHouse server HTTP API"'
        body = error.text().encode()
        if compress_blocks:  # clickhouse-go reads even an error body through its block reader
            body = native.compress_blocks(body)
        return web.Response(status=error.status, body=body, headers=headers)

    def _encode(self, request: web.Request, body: bytes, headers: dict[str, str]) -> bytes:
        if request.query.get("enable_http_compression") != "1" or not body:
            return body
        accepted = [part.split(";")[0].strip().lower()
                    for part in request.headers.get("Accept-Encoding", "").split(",")]
        for encoding in ENCODERS:
            if encoding in accepted:
                headers["Content-Encoding"] = encoding
                return ENCODERS[encoding](body)
        return body


def _int(text: str | None) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def _readonly(user: User) -> ClickHouseError:
    return ClickHouseError(164, f"{user.name}: Cannot execute query in readonly mode", "READONLY")


def _too_large(detail: str) -> ClickHouseError:
    return ClickHouseError(229, f"Request body too large: {detail}", "QUERY_IS_TOO_LARGE")


def _content_type(fmt: str) -> str:
    if fmt in _CONTENT_TYPES:
        return _CONTENT_TYPES[fmt]
    if fmt.startswith("JSON"):
        return "application/json; charset=UTF-8"
    if fmt.startswith(("TabSeparated", "TSV")):
        return _CONTENT_TYPES["TSV"]
    return "application/octet-stream"
