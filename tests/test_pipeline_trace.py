"""A pipeline is one trace (SPEC 3.2, 4): ``mltrace run`` and ``mltrace.pipeline`` open a root
span whose context reaches child processes through TRACEPARENT/TRACESTATE; a process with no
active span continues the trace in those variables; the pipeline span is never a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _support import CLI_TIMEOUT, release_store, run_script, subprocess_env, write_script

import mltrace_otel as mltrace
from mltrace_otel import semconv

STAGE = """
    import sys

    import mltrace_otel as mltrace

    name, reads, writes = sys.argv[1], sys.argv[2], sys.argv[3]

    @mltrace.Component(name).run(input_vars=["inputs"], output_vars=["outputs"])
    def stage():
        inputs = [item for item in reads.split(",") if item]
        outputs = [item for item in writes.split(",") if item]

    stage()
"""

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


_COLUMNS = ("SpanId", "ParentSpanId", "TraceId", "TraceState", "SpanName", "StatusCode")


def _spans(where: str = "1", parameters: dict[str, object] | None = None) -> list[dict]:
    """Spans in ``otel_traces`` (through the query API), oldest first."""
    rows = mltrace.query(
        f"SELECT {', '.join(_COLUMNS)}, SpanAttributes FROM otel_traces WHERE {where}"
        " ORDER BY Timestamp",
        parameters,
    )
    return [{**dict(zip(_COLUMNS, row)), "attributes": dict(row[-1])} for row in rows]


def _pipeline_spans() -> list[dict]:
    return _spans("SpanAttributes[{key:String}] != ''", {"key": semconv.PIPELINE_NAME})


def _mltrace_run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    release_store()
    return subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "run", *args],
        env=subprocess_env(home), capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )


def test_mltrace_run_makes_a_three_process_pipeline_one_trace(home: Path, tmp_path: Path) -> None:
    stage = write_script(tmp_path, "stage.py", STAGE)
    python = f"{sys.executable} {stage}"
    command = (
        f"{python} ingest s3://raw raw.csv && {python} clean raw.csv clean.csv"
        f" && {python} train clean.csv model.pkl"
    )
    proc = _mltrace_run(home, "--name", "nightly", "--", "sh", "-c", command)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""

    levels = mltrace.trace("model.pkl")
    assert [(level, run.component_name) for level, run in levels] == [
        (0, "train"), (1, "clean"), (2, "ingest"),
    ]
    (pipeline,) = _pipeline_spans()
    assert pipeline["SpanName"] == "nightly" and pipeline["ParentSpanId"] == ""
    assert pipeline["StatusCode"] == "Ok"
    assert pipeline["attributes"][semconv.PROCESS_EXECUTABLE_NAME] == "sh"
    assert {run.trace_id for _, run in levels} == {pipeline["TraceId"]}
    runs = _spans("SpanAttributes[{key:String}] != ''", {"key": semconv.COMPONENT_NAME})
    assert {span["ParentSpanId"] for span in runs} == {pipeline["SpanId"]}
    # The pipeline span is not a component run.
    assert len(mltrace.get_recent_run_ids(limit=10)) == 3
    assert "nightly" not in {info.name for info in mltrace.get_components()}
    assert mltrace.get_history("nightly") == []


def test_mltrace_run_passes_the_exit_code_through(home: Path) -> None:
    proc = _mltrace_run(home, "--name", "failing", "--", "sh", "-c", "exit 3")
    assert proc.returncode == 3
    (pipeline,) = _pipeline_spans()
    assert pipeline["StatusCode"] == "Error"
    assert pipeline["attributes"][semconv.PROCESS_EXIT_CODE] == "3"

    missing = _mltrace_run(home, "--name", "typo", "--", "no-such-command-here")
    assert missing.returncode == 127
    assert "no-such-command-here" in missing.stderr


def test_mltrace_run_with_url_logs_the_pipeline_and_its_runs_on_that_server(
    home: Path, tmp_path: Path
) -> None:
    """--url (as on every command that writes the store): the root span and the command's
    runs go to the server, none to the local home."""
    from _serve import serve_process
    from _services import clickhouse_json

    stage = write_script(tmp_path, "stage.py", STAGE)
    with serve_process(tmp_path / "served") as server:
        proc = _mltrace_run(home, "--name", "remote", "--url", server.url, "--",
                            sys.executable, str(stage), "train", "clean.csv", "model.pkl")
        assert proc.returncode == 0, proc.stderr
        rows = clickhouse_json(server.url, "SELECT SpanName, TraceId FROM otel_traces"
                                           " ORDER BY Timestamp")
    assert [row["SpanName"] for row in rows] == ["remote", "train"]
    assert len({row["TraceId"] for row in rows}) == 1
    assert not (home / "spool").exists() or not list((home / "spool").iterdir())


@pytest.mark.parametrize("flags", ["01", "00"])
def test_traceparent_in_the_environment_is_the_parent(
    home: Path, tmp_path: Path, flags: str
) -> None:
    stage = write_script(tmp_path, "stage.py", STAGE)
    run_script(
        stage, home, "scheduled", "in.csv", "out.csv",
        TRACEPARENT=f"00-{TRACE_ID}-{PARENT_ID}-{flags}", TRACESTATE="airflow=dag-7",
    )
    (span,) = _spans()
    # An unsampled parent (flags 00) does not drop the run: lineage is never sampled away.
    assert (span["TraceId"], span["ParentSpanId"]) == (TRACE_ID, PARENT_ID)
    assert span["TraceState"] == "airflow=dag-7"
    assert mltrace.trace("out.csv")[0][1].trace_id == TRACE_ID


def test_a_malformed_traceparent_starts_a_new_trace(home: Path, tmp_path: Path) -> None:
    stage = write_script(tmp_path, "stage.py", STAGE)
    proc = run_script(stage, home, "scheduled", "in.csv", "out.csv", TRACEPARENT="garbage")
    assert proc.stderr == ""
    (span,) = _spans()
    assert span["ParentSpanId"] == "" and len(span["TraceId"]) == 32


def test_pipeline_context_manager_and_decorator(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRACEPARENT", f"00-{TRACE_ID}-{PARENT_ID}-01")
    component = mltrace.Component("step")

    @component.run(output_vars=["out"])
    def step(out: str) -> None:
        assert os.environ["TRACEPARENT"] != f"00-{TRACE_ID}-{PARENT_ID}-01"

    with mltrace.pipeline("daily") as pipeline:
        assert os.environ["TRACEPARENT"].split("-")[1] == TRACE_ID  # continues the outer trace
        step("a.csv")
        step("b.csv")
    assert os.environ["TRACEPARENT"] == f"00-{TRACE_ID}-{PARENT_ID}-01"  # restored
    assert pipeline.trace_id == TRACE_ID

    monkeypatch.delenv("TRACEPARENT")

    @mltrace.pipeline("hourly")
    def hourly(name: str) -> None:
        step(name)

    hourly("c.csv")
    hourly("d.csv")
    assert "TRACEPARENT" not in os.environ

    with pytest.raises(KeyError), mltrace.pipeline("broken"):
        raise KeyError("missing column")

    spans = _pipeline_spans()
    pipelines = {span["SpanName"]: span for span in spans if span["SpanName"] != "hourly"}
    hourly_spans = [span for span in spans if span["SpanName"] == "hourly"]
    assert pipelines["daily"]["ParentSpanId"] == PARENT_ID
    assert pipelines["broken"]["StatusCode"] == "Error"
    assert len({span["TraceId"] for span in hourly_spans}) == 2  # one trace per call
    runs = {run.outputs[0]: run for run in mltrace.get_history("step", limit=None)}
    assert runs["a.csv"].trace_id == runs["b.csv"].trace_id == TRACE_ID
    assert {runs["c.csv"].trace_id, runs["d.csv"].trace_id} == {
        span["TraceId"] for span in hourly_spans
    }
    assert len(mltrace.get_recent_run_ids(limit=10)) == 4


def test_runs_are_children_of_the_applications_active_span(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "app.py", """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        import mltrace_otel as mltrace

        trace.set_tracer_provider(TracerProvider())
        tracer = trace.get_tracer("the-app")

        @mltrace.Component("scoring").run(output_vars=["out"])
        def scoring():
            out = "scores.csv"

        with tracer.start_as_current_span("request") as span:
            scoring()
            context = span.get_span_context()
            print(f"{context.trace_id:032x} {context.span_id:016x}")
    """)
    trace_id, span_id = run_script(script, home).stdout.split()
    (run,) = _spans()  # the application's own span is not exported by mltrace
    assert (run["TraceId"], run["ParentSpanId"]) == (trace_id, span_id)


def test_the_demo_is_one_pipeline_trace(home: Path, tmp_path: Path) -> None:
    demo_home = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "mltrace_otel.cli", "demo", "--home", str(demo_home)],
        env=subprocess_env(demo_home), capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    mltrace.configure(backend="local", home=demo_home)  # the fixture parks it afterwards
    (pipeline,) = _pipeline_spans()
    assert pipeline["SpanName"] == "churn-demo"
    runs = _spans("SpanAttributes[{key:String}] != ''", {"key": semconv.COMPONENT_NAME})
    assert len(runs) >= 5
    assert {span["TraceId"] for span in runs} == {pipeline["TraceId"]}
    assert f"Pipeline trace id: {pipeline['TraceId']}" in proc.stdout


def test_mltrace_run_forwards_sigterm_and_records_the_failure(home: Path) -> None:
    release_store()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mltrace_otel.cli", "run", "--name", "stopped", "--",
         "sh", "-c", "echo started; exec sleep 60"],
        env=subprocess_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=CLI_TIMEOUT)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    (pipeline,) = _pipeline_spans()
    assert pipeline["StatusCode"] == "Error"
    assert pipeline["attributes"][semconv.PROCESS_EXIT_CODE] == str(128 + signal.SIGTERM)
