"""What exporting each run as it ends in a worker process costs, and that the main process
does not pay it: per-run time of a decorated no-op in the main process and in a forked pool
worker (both into the spool, flush included), and the span processor's ``on_end`` beside the
SDK's bare ``BatchSpanProcessor.on_end`` (the main process's only extra work is one attribute
test per span).

    python bench/bench_worker_flush.py [--runs 5000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir
from _table import markdown_table
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import mltrace_otel as mltrace
from mltrace_otel import semconv, state
from mltrace_otel.sdk.tracing import MltraceSpanProcessor

component = mltrace.Component("bench-pool")


@component.run(input_vars=["source"], output_vars=["target"])
def decorated() -> None:
    source = "features.parquet"  # noqa: F841 (logged by name)
    target = "predictions.csv"  # noqa: F841


def per_run_micros(runs: int) -> float:
    """µs per decorated run, flush included, in this process."""
    start = time.perf_counter()
    for _ in range(runs):
        decorated()
    state.flush()
    return (time.perf_counter() - start) / runs * 1e6


class _Discard(SpanExporter):
    def export(self, spans: object) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def on_end_nanos(spans: int, repeat: int) -> tuple[float, float]:
    """ns per ``on_end`` (best of ``repeat``, interleaved): mltrace's processor in
    main-process mode, then the SDK's bare one with the same settings."""
    tracer = TracerProvider().get_tracer(semconv.SCOPE_NAME)
    span = tracer.start_span("x")
    span.end()
    mltrace_processor = MltraceSpanProcessor(_Discard())
    bare = BatchSpanProcessor(
        _Discard(), max_queue_size=1 << 18, max_export_batch_size=4096, schedule_delay_millis=1000
    )  # the same settings as mltrace's
    best = {mltrace_processor: float("inf"), bare: float("inf")}
    for _ in range(repeat):
        for processor in best:
            start = time.perf_counter_ns()
            for _ in range(spans):
                processor.on_end(span)
            best[processor] = min(best[processor], (time.perf_counter_ns() - start) / spans)
            processor.force_flush()
    for processor in best:
        processor.shutdown()
    return best[mltrace_processor], best[bare]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    mltrace.configure(home=scratch_dir("worker-flush"))
    decorated()  # warm caches (git hash, code snapshot)
    state.flush()
    main_process = statistics.median(per_run_micros(args.runs) for _ in range(args.repeat))
    with multiprocessing.get_context("fork").Pool(1) as pool:
        worker = statistics.median(
            pool.apply(per_run_micros, (args.runs,)) for _ in range(args.repeat)
        )
    mltrace_on_end, sdk_on_end = on_end_nanos(20_000, 7)
    print(f"Worker-process delivery ({args.runs} runs, median of {args.repeat})\n")
    print(markdown_table(["where", "cost"], [
        ("main process: decorated run, batched export", f"{main_process:.1f} µs/run"),
        ("forked pool worker: decorated run, exported as it ends", f"{worker:.1f} µs/run"),
        ("mltrace processor on_end, main process (best of 7)", f"{mltrace_on_end:.0f} ns/span"),
        ("floor: the SDK's BatchSpanProcessor.on_end (best of 7)", f"{sdk_on_end:.0f} ns/span"),
    ]))


if __name__ == "__main__":
    main()
