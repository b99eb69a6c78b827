"""OTLP/HTTP trace receiver: ``POST /v1/traces`` into the embedded store's spool.

Follows the OTLP/HTTP specification (opentelemetry-proto ``docs/specification.md``):
binary protobuf (``application/x-protobuf``) or OTLP/JSON (``application/json``: hex trace and
span ids, enums as numbers or names, 64-bit integers as strings or numbers, unknown fields
ignored), bodies optionally ``gzip`` or ``deflate`` encoded. A request is answered only after
its spans are durable: each accepted request becomes one Arrow spool file, published by the
same function the SDK's spool exporter uses, which ``mltrace serve``'s ingest loop loads into
``otel_traces``. The rows are :mod:`mltrace_otel.rows`' mapping, the Collector ClickHouse
exporter's.

Answers: 200 with an ``ExportTraceServiceResponse`` in the request's content type, whose
``partial_success`` counts the spans that could not be stored (and says why); 400 for a body
that does not decode; 413 past the size limit (after decompression); 415 for another content
type or encoding; 503 with ``Retry-After`` when the spool cannot be written, so exporters retry.
Errors carry a ``google.rpc.Status`` body, as the specification asks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from mltrace_otel import rows
from mltrace_otel.config import Settings
from mltrace_otel.sdk import spool
from mltrace_otel.server import content_coding

__all__ = ["DEFAULT_MAX_BODY_BYTES", "TRACES_PATH", "accept", "decode", "otlp_application"]

logger = logging.getLogger("mltrace_otel")

TRACES_PATH: Final = "/v1/traces"
PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"

DEFAULT_MAX_BODY_BYTES: Final = 20 << 20
"""Largest request body accepted, after decompression (the Collector's OTLP receiver default)."""

RETRY_AFTER_SECONDS: Final = 1
"""``Retry-After`` sent with 503 when the spool cannot be written."""

_ENCODINGS = frozenset({"", "identity", "gzip", "deflate"})
_MAX_LISTED_REJECTIONS = 5
_SETTINGS: Final = web.AppKey("settings", Settings)


def otlp_application(
    settings: Settings, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> web.Application:
    """The OTLP/HTTP receiver as an aiohttp application writing into ``settings.spool_dir``
    (run it with ``auto_decompress=False``: it decodes content codings itself)."""
    app = web.Application(client_max_size=max_body_bytes)
    app[_SETTINGS] = settings
    app.router.add_post(TRACES_PATH, _export_traces)
    return app


class _Undecodable(ValueError):
    """A request body that is not an ``ExportTraceServiceRequest``."""


async def _export_traces(request: web.Request) -> web.Response:
    as_json = request.content_type == JSON
    if request.content_type not in (PROTOBUF, JSON):
        return _error(
            415, code_pb2.INVALID_ARGUMENT, as_json,
            f"unsupported content type {request.content_type!r}: send {PROTOBUF} or {JSON}",
        )
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in _ENCODINGS:
        return _error(
            415, code_pb2.INVALID_ARGUMENT, as_json,
            f"unsupported content encoding {encoding!r}: send gzip, deflate or none",
        )
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(
            413, code_pb2.RESOURCE_EXHAUSTED, as_json,
            f"request body larger than {request.client_max_size} bytes: send smaller batches",
        )
    except Exception as error:  # a broken transfer
        return _error(400, code_pb2.INVALID_ARGUMENT, as_json, f"unreadable body: {error}")
    if encoding in ("gzip", "deflate"):
        try:
            body = content_coding.decode(body, encoding, request.client_max_size)
        except OverflowError:
            return _error(
                413, code_pb2.RESOURCE_EXHAUSTED, as_json,
                f"decompressed body larger than {request.client_max_size} bytes: send smaller "
                "batches",
            )
        except ValueError as error:
            return _error(400, code_pb2.INVALID_ARGUMENT, as_json, f"unreadable body: {error}")
    settings = request.app[_SETTINGS]
    try:
        batch = await asyncio.to_thread(accept, settings.spool_dir, body, as_json)
    except _Undecodable as error:
        return _error(400, code_pb2.INVALID_ARGUMENT, as_json, str(error))
    except OSError as error:
        logger.warning("mltrace: OTLP request not stored, the spool cannot be written: %s", error)
        response = _error(
            503, code_pb2.UNAVAILABLE, as_json, f"the spool cannot be written: {error}"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _message(200, _response(batch), as_json)


def accept(spool_dir: Path, body: bytes, as_json: bool) -> rows.Batch:
    """Decode one request body, map its spans to rows and publish them to the spool.

    Returns the rows with what was repaired or rejected; raises ``ValueError`` for a body
    that does not decode and ``OSError`` when the spool cannot be written.
    """
    batch = rows.encode_request(decode(body, as_json))
    if batch.table.num_rows:
        spool.publish(spool_dir, rows.arrow_file(batch.table))
    if batch.rejected:
        logger.warning(
            "mltrace: OTLP request: %d span(s) rejected: %s",
            len(batch.rejected), _summary(batch.rejected),
        )
    return batch


def decode(body: bytes, as_json: bool) -> ExportTraceServiceRequest:
    """An ``ExportTraceServiceRequest`` from a protobuf or OTLP/JSON body."""
    request = ExportTraceServiceRequest()
    if not as_json:
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            raise _Undecodable(f"not an OTLP ExportTraceServiceRequest: {error}") from error
        return request
    try:
        document = json.loads(body)
        json_format.ParseDict(_ids_as_base64(document), request, ignore_unknown_fields=True)
    except (ValueError, TypeError, AttributeError, json_format.ParseError) as error:
        raise _Undecodable(f"not OTLP/JSON traces: {error}") from error
    return request


_SPAN_IDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_LINK_IDS = ("traceId", "spanId", "trace_id", "span_id")


def _ids_as_base64(document: Any) -> Any:
    """OTLP/JSON spells ids in hex where protobuf's JSON mapping expects base64: convert."""
    if not isinstance(document, dict):
        raise _Undecodable("OTLP/JSON traces must be a JSON object")
    for resource_spans in _list(document, "resourceSpans", "resource_spans"):
        for scope_spans in _list(resource_spans, "scopeSpans", "scope_spans"):
            for span in _list(scope_spans, "spans"):
                _convert_ids(span, _SPAN_IDS)
                for link in _list(span, "links"):
                    _convert_ids(link, _LINK_IDS)
    return document


def _list(document: Any, *keys: str) -> list[Any]:
    if not isinstance(document, dict):
        return []
    for key in keys:
        value = document.get(key)
        if isinstance(value, list):
            return value
    return []


def _convert_ids(document: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(document, dict):
        return
    for key in keys:
        value = document.get(key)
        if isinstance(value, str):
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise _Undecodable(f"{key} {value[:40]!r} is not hexadecimal") from None
            document[key] = base64.b64encode(raw).decode("ascii")


def _response(batch: rows.Batch) -> ExportTraceServiceResponse:
    response = ExportTraceServiceResponse()
    if batch.rejected:
        response.partial_success.rejected_spans = len(batch.rejected)
        response.partial_success.error_message = _summary(batch.rejected)
    return response


def _summary(lines: tuple[str, ...]) -> str:
    shown = "; ".join(lines[:_MAX_LISTED_REJECTIONS])
    more = len(lines) - _MAX_LISTED_REJECTIONS
    return f"{shown}; and {more} more" if more > 0 else shown


def _error(status: int, code: int, as_json: bool, message: str) -> web.Response:
    return _message(status, status_pb2.Status(code=code, message=message), as_json)


def _message(status: int, message: Message, as_json: bool) -> web.Response:
    if as_json:
        text = json_format.MessageToJson(message, indent=None)
        return web.Response(status=status, body=text.encode(), content_type=JSON)
    return web.Response(status=status, body=message.SerializeToString(), content_type=PROTOBUF)

