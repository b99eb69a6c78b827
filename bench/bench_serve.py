"""`mltrace serve`: CLI `mltrace trace` latency with the server running vs. without, beside the
start-up floor of the two imports a CLI may need (chDB without the server, clickhouse-connect
with it); and the `clickhouse` backend's logging overhead per run (through `mltrace serve`)
vs. a bare OpenTelemetry span whose exporter discards it.

    python bench/bench_serve.py [--runs 10000] [--cli-samples 10] [--log-runs 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _synthetic import DEPTH, chain_output, fill
from _table import markdown_table, percentile
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import mltrace_otel as mltrace
from mltrace_otel import semconv, state
from mltrace_otel.server import discovery


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _seconds(command: list[str], env: dict[str, str], samples: int
             ) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of ``samples`` runs of ``command``."""
    latencies, cpu = [], []
    for _ in range(samples):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        latencies.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return latencies, cpu


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(home: Path) -> subprocess.Popen[bytes]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mltrace_otel.cli", "serve", "--home", str(home),
         "--port", str(port), "--otlp-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while discovery.running_server(home) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("mltrace serve did not start")
        time.sleep(0.05)
    return process


def _per_run(body: Callable[[], None], runs: int, flush: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        body()
    flush()
    return (time.perf_counter() - start) / runs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000, help="stored runs")
    parser.add_argument("--cli-samples", type=int, default=10)
    parser.add_argument("--log-runs", type=int, default=2_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mltrace-bench-serve-"))
    mltrace.configure(home=home)
    fill(state.store(), args.runs)
    state.store().close()
    env = {**os.environ, "MLTRACE_HOME": str(home)}
    env.pop("MLTRACE_BACKEND", None)
    chains = args.runs // DEPTH
    trace = [sys.executable, "-m", "mltrace_otel.cli", "trace",
             chain_output(random.randrange(chains)), "--json"]
    floor = [sys.executable, "-c"]
    timings = [
        ("python -c pass", _seconds([*floor, "pass"], env, args.cli_samples)),
        ("python -c 'import chdb'", _seconds([*floor, "import chdb"], env, args.cli_samples)),
        ("python -c 'import clickhouse_connect'",
         _seconds([*floor, "import clickhouse_connect"], env, args.cli_samples)),
        ("mltrace trace --json, embedded store (no server)",
         _seconds(trace, env, args.cli_samples)),
    ]
    server = _start_server(home)
    try:
        timings.append(("mltrace trace --json, through mltrace serve",
                        _seconds(trace, env, args.cli_samples)))
        overhead = _logging_overhead(discovery.running_server(home), args.log_runs)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    print(f"CLI latency ({args.runs:,} stored runs, depth-{DEPTH} trace, "
          f"{args.cli_samples} samples each)\n")
    print(markdown_table(
        ["process", "wall p50 ms", "wall p95 ms", "CPU p50 ms"],
        [(name, f"{percentile(wall, 0.5) * 1e3:.0f}", f"{percentile(wall, 0.95) * 1e3:.0f}",
          f"{percentile(cpu, 0.5) * 1e3:.0f}") for name, (wall, cpu) in timings],
    ))
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("\ntarget: mltrace trace through mltrace serve < 300 ms\n")
    print(f"Per-run logging overhead ({args.log_runs} runs, incl. the final flush)\n")
    bare = overhead[0][1]
    print(markdown_table(
        ["variant", "µs per run", "vs bare span"],
        [(name, f"{micros:.0f}", f"{micros / bare:.1f}x") for name, micros in overhead],
    ))


def _logging_overhead(server: discovery.ServerInfo | None, runs: int) -> list[tuple[str, float]]:
    assert server is not None
    provider = TracerProvider()
    processor = BatchSpanProcessor(_Discard())
    provider.add_span_processor(processor)
    tracer = provider.get_tracer(semconv.SCOPE_NAME)
    attributes = {semconv.COMPONENT_NAME: "bench", semconv.RUN_INPUTS: ["features.parquet"],
                  semconv.RUN_OUTPUTS: ["predictions.csv"]}

    def bare() -> None:
        with tracer.start_as_current_span("bench", attributes=attributes):
            pass

    mltrace.configure(backend="clickhouse", url=server.store_url,
                      home=Path(tempfile.mkdtemp(prefix="mltrace-bench-client-")))
    component = mltrace.Component("bench")

    @component.run(input_vars=["features"], output_vars=["predictions"])
    def decorated() -> None:
        features = "features.parquet"  # noqa: F841 (logged by name)
        predictions = "predictions.csv"  # noqa: F841

    decorated()  # connect, warm caches
    state.flush()
    return [
        ("bare OpenTelemetry span, discarding exporter", _per_run(bare, runs,
                                                                   processor.force_flush)),
        ("mltrace @run, clickhouse backend -> mltrace serve", _per_run(decorated, runs,
                                                                        state.flush)),
    ]


if __name__ == "__main__":
    main()
