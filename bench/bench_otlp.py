"""OTLP/HTTP spans per second accepted by the receiver (``mltrace serve --otlp-port``).

Realistic runs (a featurize -> train -> predict chain: pointers, versions, span links) are
logged through the mltrace SDK and captured as SDK spans, untimed. The real Python OTLP
exporter then sends them in batches to the receiver running in its own process, which
decodes, maps to ``otel_traces`` rows and publishes an fsynced Arrow spool file per request
before answering; the same requests pre-encoded and POSTed over one keep-alive connection
show the receiver without the exporter's own encoding cost. Floors, measured in the same run:
the protobuf bytes only parsed; parsed and mapped without writing; and an HTTP handler in the
same server process that reads the body and answers without decoding it.

    python bench/bench_otlp.py [--spans 30000] [--batch 512]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir
from _table import markdown_table
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import mltrace_otel as mltrace
from mltrace_otel import rows

SERVER = r'''
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from mltrace_otel import config
from mltrace_otel.server.otlp import otlp_application

home, port = sys.argv[1], int(sys.argv[2])
EMPTY = ExportTraceServiceResponse().SerializeToString()


async def floor(request):
    await request.read()
    return web.Response(body=EMPTY, content_type="application/x-protobuf")


root = web.Application(client_max_size=64 << 20)
root.router.add_post("/floor/v1/traces", floor)
root.add_subapp("/receiver", otlp_application(config.resolve(backend="local", home=home)))
web.run_app(root, host="127.0.0.1", port=port, print=None, handle_signals=True,
            auto_decompress=False)  # as mltrace serve runs it
'''


def logged_spans(count: int, home: Path) -> list[ReadableSpan]:
    """``count`` mltrace run spans of a three-stage chain, captured from the SDK."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-otlp"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    mltrace.configure(backend="local", home=home)
    for index in range(count // 3 + 1):
        for stage, inputs, outputs in (
            ("featurize", [f"raw/{index}.csv", "schema.json"], [f"features/{index}.parquet"]),
            ("train", [f"features/{index}.parquet"], [f"models/{index}.pkl", f"metrics/{index}"]),
            ("predict", [f"models/{index}.pkl", f"features/{index}.parquet"],
             [f"predictions/{index}.csv"]),
        ):
            run = mltrace.ComponentRun(stage, git_hash="0123456789abcdef" * 2 + "01234567")
            run.set_start_timestamp()
            run.add_inputs(inputs)
            run.add_outputs(outputs)
            run.set_end_timestamp()
            mltrace.log_component_run(run)
    mltrace.flush()
    spans = list(memory.get_finished_spans())[:count]
    assert sum(len(span.links) for span in spans) >= count // 2, "links expected"
    return spans


def batches(spans: list[ReadableSpan], size: int) -> list[list[ReadableSpan]]:
    return [spans[start:start + size] for start in range(0, len(spans), size)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the receiver process exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the receiver did not start listening")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(server_pid: int, run: Callable[[], float]) -> tuple[float, float]:
    """Wall seconds of ``run`` and the server's CPU seconds meanwhile."""
    before = cpu_seconds(server_pid)
    elapsed = run()
    return elapsed, cpu_seconds(server_pid) - before


def in_process_cpu(payloads: list[bytes], map_rows: bool) -> tuple[float, float]:
    before = time.process_time()
    elapsed = in_process(payloads, map_rows)
    return elapsed, time.process_time() - before


def send(url: str, groups: list[list[ReadableSpan]], compression: Compression) -> float:
    exporter = OTLPSpanExporter(endpoint=url, compression=compression, timeout=30)
    exporter.export(groups[0])  # connection set up, untimed
    start = time.perf_counter()
    for group in groups:
        result = exporter.export(group)
        assert result.name == "SUCCESS", result
    elapsed = time.perf_counter() - start
    exporter.shutdown()
    return elapsed


def post_bodies(port: int, path: str, payloads: list[bytes]) -> float:
    """The same protobuf bodies POSTed over one keep-alive connection (no client encoding)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-protobuf"}
    start = time.perf_counter()
    for payload in payloads:
        connection.request("POST", path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def in_process(payloads: list[bytes], map_rows: bool) -> float:
    start = time.perf_counter()
    for payload in payloads:
        request = ExportTraceServiceRequest()
        request.ParseFromString(payload)
        if map_rows:
            rows.arrow_file(rows.encode_request(request).table)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=512, help="spans per request")
    args = parser.parse_args()
    work = scratch_dir("otlp")
    spans = logged_spans(args.spans, work / "sdk")
    groups = batches(spans, args.batch)
    payloads = [encode_spans(group).SerializeToString() for group in groups]
    size = sum(map(len, payloads))

    receiver_home = work / "receiver"
    port = free_port()
    script = work / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen([sys.executable, str(script), str(receiver_home), str(port)])
    try:
        wait_listening(port, server)
        base = f"http://127.0.0.1:{port}"
        pid = server.pid
        floor, receiver = f"{base}/floor/v1/traces", f"{base}/receiver/v1/traces"
        plain, gzip = Compression.NoCompression, Compression.Gzip
        post_bodies(port, "/receiver/v1/traces", payloads[:1])  # warm-up, untimed
        timings = [
            ("protobuf parse only (floor, in process)", in_process_cpu(payloads, False)),
            ("parse + otel_traces rows + Arrow file, no disk (in process)",
             in_process_cpu(payloads, True)),
            ("pre-encoded bodies -> HTTP handler that only reads them (floor)", measured(
                pid, lambda: post_bodies(port, "/floor/v1/traces", payloads))),
            ("pre-encoded bodies -> receiver (decode, map, fsynced spool file, 200)", measured(
                pid, lambda: post_bodies(port, "/receiver/v1/traces", payloads))),
            ("real exporter -> HTTP handler that only reads the body (floor)", measured(
                pid, lambda: send(floor, groups, plain))),
            ("real exporter -> receiver (decode, map, fsynced spool file, 200)", measured(
                pid, lambda: send(receiver, groups, plain))),
            ("real exporter, gzip -> receiver", measured(
                pid, lambda: send(receiver, groups, gzip))),
        ]
    finally:
        server.terminate()
        server.wait(30)
    files = list((receiver_home / "spool").glob("*.arrow"))
    assert len(files) == 3 * len(groups) + 3, f"{len(files)} spool files"
    table = [
        (name, f"{len(spans):,}", f"{elapsed:.2f}", f"{len(spans) / elapsed:,.0f}",
         f"{cpu / len(spans) * 1e6:.1f}")
        for name, (elapsed, cpu) in timings
    ]
    links = sum(len(span.links) for span in spans)
    print(f"OTLP/HTTP receiver: {len(spans):,} mltrace run spans ({links:,} links), "
          f"{len(groups)} requests of {args.batch}, {size / 1e6:.1f} MB protobuf; "
          f"{os.cpu_count()} cores\n")
    print(markdown_table(
        ["path", "spans", "wall s", "spans/s", "receiver CPU µs/span"], table
    ))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} "
          "(spans/s fall with other load; CPU µs/span much less)")


if __name__ == "__main__":
    main()
