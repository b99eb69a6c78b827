"""Per-run logging cost, export included: the @run decorator and the explicit API
(ComponentRun + log_component_run), each logging a no-op run with 2 inputs and 1 output,
each beside its floor measured in the same process: a bare OpenTelemetry SDK span with the
attributes and the link that variant's spans carry (read from one span it logged: 15 for the
decorator, which adds owner, tags, code snapshot and its hash, function and file; 9 for the
explicit API), through a BatchSpanProcessor to an exporter that discards spans.

Each variant logs --runs runs and then flushes, so export (encoding, spool files) is counted
however it is threaded. CPU is the whole process's (time.process_time: every thread), so
work moved to a background thread still counts. The machine may be shared: compare the
ratios, and prefer CPU to wall time.

    python bench/bench_logging.py                 # small smoke run
    python bench/bench_logging.py --runs 200000 --repeat 3
    python bench/bench_logging.py --rss-runs 1000000   # resident memory of a logging process

With ``--rss-runs N`` the table is resident memory instead: a fresh process logs N decorated
runs and reports its RSS after the first flush and after N runs, beside a fresh floor process
logging N bare spans the same way.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir
from _table import markdown_table
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Link

import mltrace_otel as mltrace
from mltrace_otel import semconv, state

TARGET_RATIO = 2.0


class DiscardingExporter(SpanExporter):
    """The floor's exporter: accepts every batch and keeps nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def per_run(
    body: Callable[[], object], runs: int, flush: Callable[[], object]
) -> tuple[float, float]:
    """Wall and whole-process CPU microseconds per run, the final flush included."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        body()
    flush()
    return (
        (time.perf_counter() - wall) / runs * 1e6,
        (time.process_time() - cpu) / runs * 1e6,
    )


def rss_mib(field: str = "VmRSS") -> float:
    """Resident set size of this process, now (``VmRSS``) or at its peak (``VmHWM``), from
    Linux ``/proc``; elsewhere the peak from getrusage (on Linux that one survives exec, so
    a benchmark started by a large process would report its parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_verdict(rss: float, runs: int) -> str:
    """The target is <= 150 MiB after 10^6 runs: fewer runs can only show it missed."""
    if rss > 150:
        return "missed"
    return "met" if runs >= 1_000_000 else "not shown (target is after 10^6 runs)"


def rss_table(runs: int) -> None:
    """RSS of a fresh process per variant, each measured in its own child process."""
    rows = []
    for variant in ("floor", "decorator", "decorator, new files"):
        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", variant, "--runs", str(runs)],
            capture_output=True, text=True, check=True, env=os.environ.copy(),
        )
        first, last = (float(value) for value in child.stdout.split())
        rows.append((variant, first, last))
    floor_last = rows[0][2]
    print(f"Resident memory of a logging process ({runs:,} runs, export included)\n")
    print(markdown_table(
        ["process", "RSS MiB after first flush", f"RSS MiB after {runs:,} runs",
         "x floor (after)", "target <= 150 MiB"],
        [(name, f"{first:.0f}", f"{last:.0f}", f"{last / floor_last:.2f}x",
          "-" if name == "floor" else _rss_verdict(last, runs))
         for name, first, last in rows],
    ))


def rss_child(variant: str, runs: int) -> None:
    """Log ``runs`` runs (or bare spans) and print RSS after the first flush and at the end."""
    if variant == "floor":
        provider = TracerProvider()
        processor = BatchSpanProcessor(DiscardingExporter())
        provider.add_span_processor(processor)
        tracer = provider.get_tracer(semconv.SCOPE_NAME)
        linked = tracer.start_span("producer")
        linked.end()
        link = Link(linked.get_span_context(), {semconv.LINK_POINTER: "features.parquet"})

        def body() -> None:
            with tracer.start_as_current_span(
                "bench", attributes={semconv.COMPONENT_NAME: "bench"}, links=[link]
            ):
                pass

        flush: Callable[[], object] = processor.force_flush
    else:
        mltrace.configure(home=scratch_dir("rss"))
        body = decorated_no_op() if variant == "decorator" else decorated_new_files()
        flush = state.flush
    body()
    flush()
    first = rss_mib()
    for _ in range(runs):
        body()
    flush()
    print(f"{first:.1f} {rss_mib():.1f}")


def logged_span(body: Callable[[], None]) -> ReadableSpan:
    """The span one call of ``body`` logs through mltrace (read at the span processor)."""
    processor = state.tracing().processor
    ended: list[ReadableSpan] = []
    on_end = processor.on_end
    processor.on_end = lambda span: (ended.append(span), on_end(span))  # type: ignore[method-assign]
    try:
        body()
    finally:
        del processor.on_end
    return ended[-1]


def decorated_no_op() -> Callable[[], None]:
    """The benchmarked pipeline step: a decorated no-op with 2 inputs and 1 output."""
    component = mltrace.Component("bench", owner="bench", tags=["bench"])

    @component.run(input_vars=["features", "model"], output_vars=["predictions"])
    def decorated() -> None:
        features = "features.parquet"  # noqa: F841 (logged by name)
        model = "model.pkl"  # noqa: F841
        predictions = "predictions.csv"  # noqa: F841

    return decorated


def decorated_new_files() -> Callable[[], None]:
    """The same step reading and writing new files each run (a batch job): every pointer
    name is new, so the links registry fills up to its bound (sdk/links.py)."""
    component = mltrace.Component("bench", owner="bench", tags=["bench"])
    counter = itertools.count()

    @component.run(input_vars=["features", "model"], output_vars=["predictions"])
    def decorated(index: int) -> None:
        features = f"features-{index}.parquet"  # noqa: F841 (logged by name)
        model = "model.pkl"  # noqa: F841
        predictions = f"predictions-{index}.csv"  # noqa: F841

    return lambda: decorated(next(counter))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss-runs", type=int, default=0,
                        help="measure resident memory after this many runs instead")
    parser.add_argument("--rss-child", choices=["floor", "decorator", "decorator, new files"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.runs)
        return
    if args.rss_runs:
        rss_table(args.rss_runs)
        return
    mltrace.configure(home=scratch_dir("logging"))
    decorated = decorated_no_op()

    def explicit() -> None:
        run = mltrace.ComponentRun("bench")
        run.set_start_timestamp()
        run.add_inputs(["features.parquet", "model.pkl"])
        run.add_output("predictions.csv")
        run.set_end_timestamp()
        mltrace.log_component_run(run)

    producer = mltrace.ComponentRun("producer")  # so each run gets a span link, as in use
    producer.set_start_timestamp()
    producer.add_output("features.parquet")
    producer.set_end_timestamp()
    mltrace.log_component_run(producer)
    decorated()  # warm caches (git hash, code snapshot)
    explicit()
    state.flush()

    provider = TracerProvider()
    floor_processor = BatchSpanProcessor(DiscardingExporter())
    provider.add_span_processor(floor_processor)
    floor_tracer = provider.get_tracer(semconv.SCOPE_NAME)
    linked = floor_tracer.start_span("producer")
    linked.end()

    def bare_span(logged: ReadableSpan) -> Callable[[], None]:
        """The floor for one variant: a bare span with the attributes and link attributes
        that variant's spans carry, so the floor does the same attribute work."""
        attributes = dict(logged.attributes or {})
        link = Link(linked.get_span_context(), dict(logged.links[0].attributes or {}))

        def body() -> None:
            with floor_tracer.start_as_current_span("bench", attributes=attributes,
                                                    links=[link]):
                pass

        return body

    decorator_span, explicit_span = logged_span(decorated), logged_span(explicit)
    variants = [
        (f"floor for the decorator: bare SDK span, its {len(decorator_span.attributes)} "
         "attributes, 1 link, BatchSpanProcessor, discarding exporter",
         bare_span(decorator_span), floor_processor.force_flush),
        ("mltrace @run decorator, no-op (2 inputs, 1 output)", decorated, state.flush),
        (f"floor for the explicit API: bare SDK span, its {len(explicit_span.attributes)} "
         "attributes, 1 link", bare_span(explicit_span), floor_processor.force_flush),
        ("mltrace explicit API (ComponentRun + log_component_run)", explicit, state.flush),
    ]
    walls: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    cpus: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for _ in range(args.repeat):  # interleaved, so load changes hit every variant alike
        for name, body, flush in variants:
            wall, cpu = per_run(body, args.runs, flush)
            walls[name].append(wall)
            cpus[name].append(cpu)
    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    rows = []
    for index, name in enumerate(wall):
        own_floor = name if "floor" in name else variants[index - 1][0]
        ratio = cpu[name] / cpu[own_floor]
        rows.append((
            name, f"{wall[name]:.1f}", f"{cpu[name]:.1f}", f"{wall[name] / wall[own_floor]:.2f}x",
            f"{ratio:.2f}x",
            "-" if name == own_floor else ("met" if ratio <= TARGET_RATIO else "missed"),
        ))
    rss = rss_mib("VmHWM")
    print(f"Per-run logging cost ({args.runs:,} runs per sample, median of {args.repeat}, "
          f"export included; peak RSS {rss:.0f} MiB)\n")
    print(markdown_table(
        ["variant", "wall µs/run", "CPU µs/run (process)", "wall x its floor",
         "CPU x its floor", f"target <= {TARGET_RATIO:g}x its floor (CPU)"],
        rows,
    ))


if __name__ == "__main__":
    main()
