"""Per-run logging overhead: a decorated no-op with 2 inputs and 1 output, beside a bare
function call and a bare OpenTelemetry span with the same attributes and one link.

Every variant that produces spans exports them through the same path (BatchSpanProcessor
into the spool exporter) and the timing includes the final flush, so the cost of
encoding and writing spool files is counted, not hidden in a background thread.

    python bench/bench_logging.py [--runs 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import markdown_table
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link

import mltrace_otel as mltrace
from mltrace_otel import semconv, state
from mltrace_otel.sdk.spool import SpoolSpanExporter
from mltrace_otel.sdk.tracing import MltraceSpanProcessor


def _per_call(body: Callable[[], None], runs: int, flush: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        body()
    flush()
    return (time.perf_counter() - start) / runs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mltrace-bench-"))
    mltrace.configure(home=home)

    def noop() -> None:
        return None

    component = mltrace.Component("bench", owner="bench", tags=["bench"])

    @component.run(input_vars=["features", "model"], output_vars=["predictions"])
    def decorated() -> None:
        features = "features.parquet"  # noqa: F841 (logged by name)
        model = "model.pkl"  # noqa: F841
        predictions = "predictions.csv"  # noqa: F841

    decorated()  # warm caches (git hash, code snapshot)
    state.flush()
    producer = state.tracing().tracer.start_span("producer")
    producer.end()
    link = Link(producer.get_span_context(), {semconv.LINK_POINTER: "features.parquet"})

    provider = TracerProvider()
    bare_processor = MltraceSpanProcessor(SpoolSpanExporter(home / "bare-spool"))
    provider.add_span_processor(bare_processor)
    bare_tracer = provider.get_tracer(semconv.SCOPE_NAME)
    attributes = {
        semconv.COMPONENT_NAME: "bench",
        semconv.COMPONENT_OWNER: "bench",
        semconv.COMPONENT_TAGS: ["bench"],
        semconv.RUN_INPUTS: ["features.parquet", "model.pkl"],
        semconv.RUN_INPUT_TYPES: ["DATA", "MODEL"],
        semconv.RUN_INPUT_VERSIONS: ["", ""],
        semconv.RUN_OUTPUTS: ["predictions.csv"],
        semconv.RUN_OUTPUT_TYPES: ["DATA"],
        semconv.RUN_OUTPUT_VERSIONS: [""],
        semconv.RUN_STALENESS_THRESHOLD: 2_592_000,
        semconv.VCS_REF_HEAD_REVISION: mltrace.get_git_hash(),
        semconv.RUN_CODE_SNAPSHOT: "def decorated(): ...",
    }

    def bare_span() -> None:
        with bare_tracer.start_as_current_span("bench", attributes=attributes, links=[link]):
            pass

    variants = [
        ("bare function call", noop, lambda: None),
        ("bare OpenTelemetry span (same attributes, 1 link, same export path)", bare_span,
         bare_processor.force_flush),
        ("mltrace @run no-op (2 inputs, 1 output)", decorated, state.flush),
    ]
    results = {}
    for name, body, flush in variants:
        results[name] = statistics.median(
            _per_call(body, args.runs, flush) for _ in range(args.repeat)
        )
    bare = results[variants[1][0]]
    rows = [
        (name, f"{micros:.1f}", f"{micros / bare:.2f}x" if "call" not in name else "-")
        for name, micros in results.items()
    ]
    print(f"Per-run logging overhead ({args.runs} runs, median of {args.repeat}, incl. flush)\n")
    print(markdown_table(["variant", "µs per run", "vs bare span"], rows))
    print(f"\ntarget: mltrace ≤ 2x bare span -> {results[variants[2][0]] / bare:.2f}x")


if __name__ == "__main__":
    main()
