"""A real OTLP/HTTP trace receiver for tests, run as its own process
(``python _otlp_receiver.py PORT OUT.jsonl``), and ``Receiver`` to start, kill and restart it.

It accepts ``POST /v1/traces`` (protobuf, optionally gzip), appends one JSON line per span to
OUT.jsonl (trace id, span id, parent span id, name, mltrace attributes, the size of the
request that carried it) and answers as a
Collector does. Also: ``free_port()`` and ``silent_listener()`` (a port that accepts
connections and never answers).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _ports import free_port
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def _attributes(key_values) -> dict[str, object]:  # type: ignore[no-untyped-def]
    found: dict[str, object] = {}
    for item in key_values:
        kind = item.value.WhichOneof("value")
        found[item.key] = getattr(item.value, kind) if kind != "array_value" else None
    return found


def make_app(out: Path) -> web.Application:
    async def traces(request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        lines = []
        for resource_spans in message.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = _attributes(span.attributes)
                    lines.append(json.dumps({
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "component": attributes.get("mltrace.component.name"),
                        "pipeline": attributes.get("mltrace.pipeline.name"),
                        "request_bytes": len(body),
                    }))
        with open(out, "a") as handle:
            handle.write("".join(f"{line}\n" for line in lines))
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/v1/traces", traces)
    return app


def main() -> None:
    port, out = int(sys.argv[1]), Path(sys.argv[2])
    web.run_app(make_app(out), host="127.0.0.1", port=port, print=None, handle_signals=True)


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A port whose connections the kernel accepts and nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


class Receiver:
    """The receiver as a real process on a fixed port, so it can be killed and restarted."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.out = folder / f"received-{self.port}.jsonl"
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Receiver:
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(self.port), str(self.out)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.5
            ):
                return self
            if self._process.poll() is not None:
                raise RuntimeError(f"receiver exited with {self._process.returncode}")
            time.sleep(0.05)
        raise RuntimeError("receiver did not start listening")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def spans(self) -> list[dict[str, object]]:
        """Every span received so far (duplicates included)."""
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line]


if __name__ == "__main__":
    main()
