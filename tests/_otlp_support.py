"""Helpers for the OTLP receiver tests: the receiver on a real loopback socket, requests sent
with urllib, OTLP/JSON bodies, and the rows a spool turns into through the embedded store."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from mltrace_otel import config
from mltrace_otel.server.otlp import otlp_application
from mltrace_otel.store.local import LocalStore

REQUEST_TIMEOUT = 30


@contextmanager
def running_receiver(home: Path, **options: Any) -> Iterator[str]:
    """Serve ``otlp_application`` for ``home`` on a free 127.0.0.1 port in a thread; yields the
    ``/v1/traces`` URL."""
    settings = config.resolve(backend="local", home=home)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(otlp_application(settings, **options), auto_decompress=False)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/v1/traces"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(REQUEST_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(REQUEST_TIMEOUT)
        loop.close()


def post(
    url: str,
    body: bytes,
    content_type: str = "application/x-protobuf",
    encoding: str | None = None,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Send one request (``body`` compressed with ``encoding``); the status, headers and body
    of the answer (errors included). ``headers`` are sent as given, after the defaults."""
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    sent = {"Content-Type": content_type}
    if encoding:
        sent["Content-Encoding"] = encoding
    sent.update(headers or {})
    request = urllib.request.Request(url, data=body, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def otlp_json(request: ExportTraceServiceRequest, *, integer_enums: bool = False) -> bytes:
    """The OTLP/JSON spelling of a request: protobuf's JSON mapping with hex ids."""
    document = json_format.MessageToDict(request, use_integers_for_enums=integer_enums)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span, ("traceId", "spanId", "parentSpanId"))
                for link in span.get("links", []):
                    _hex_ids(link, ("traceId", "spanId"))
    return json.dumps(document).encode()


def _hex_ids(document: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in document:
            document[key] = base64.b64decode(document[key]).hex()


def spool_files(home: Path) -> list[Path]:
    """Published spool files of ``home`` (what the receiver wrote)."""
    return sorted((home / "spool").glob("*.arrow"))


def store_rows(home: Path, sql: str = "SELECT * FROM otel_traces ORDER BY SpanId") -> list[dict]:
    """Ingest ``home``'s spool into its embedded store and return the rows of ``sql``."""
    store = LocalStore(config.resolve(backend="local", home=home))
    try:
        return store.query(sql).dicts()
    finally:
        store.close()
