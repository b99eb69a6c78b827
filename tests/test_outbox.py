"""No run lost when a backend is down (SPEC 3.1, 6): real pipeline processes, a real OTLP/HTTP
receiver process that is killed and restarted mid-pipeline, a port that accepts and never
answers, and the outbox on disk in between."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from _otlp_receiver import Receiver, free_port, silent_listener
from _support import subprocess_env, write_script

from mltrace_otel.sdk.outbox import Outbox

TIMEOUT = 2  # OTEL_EXPORTER_OTLP_TIMEOUT for these tests, in seconds
SLACK = 2.5  # seconds allowed beyond it for interpreter start-up and teardown

DRIVER = """
    import sys
    import time

    import mltrace_otel as mltrace

    stage = mltrace.Component("stage")

    @stage.run(input_vars=["source"], output_vars=["target"])
    def step(i):
        source = f"in-{i}.csv"
        target = f"out-{i}.csv"

    counter = 0
    with mltrace.pipeline("outage"):
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "log":
                for _ in range(int(argument)):
                    step(counter)
                    counter += 1
                print("logged", flush=True)
            elif command == "flush":
                started = time.monotonic()
                delivered = mltrace.flush()
                print(f"flushed {delivered} {time.monotonic() - started:.2f}", flush=True)
            elif command == "quit":
                break
"""


class Driver:
    """A pipeline process that logs runs and flushes when told to (one command a line)."""

    def __init__(self, tmp_path: Path, home: Path, timeout: float = TIMEOUT, **env: str) -> None:
        script = write_script(tmp_path, "driver.py", DRIVER)
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            env=subprocess_env(home, OTEL_EXPORTER_OTLP_TIMEOUT=str(timeout), **env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{command}\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def flush(self) -> tuple[bool, float]:
        reply = self.send("flush").split()
        assert reply[0] == "flushed", reply
        return reply[1] == "True", float(reply[2])

    def quit(self) -> tuple[float, str]:
        """Ask it to finish; seconds until it exited, and its stderr."""
        assert self.process.stdin is not None
        started = time.monotonic()
        self.process.stdin.write("quit\n")
        _, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return time.monotonic() - started, err


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _runs(receiver: Receiver) -> set[str]:
    return {span["span_id"] for span in receiver.spans() if span["component"] == "stage"}  # type: ignore[misc]


def _delivered_by_an_otlp_process(home: Path, tmp_path: Path) -> list[str]:
    """Names of the spans a process with the otlp backend delivers from the outbox of
    ``home`` (its flush() must say all were delivered)."""
    receiver = Receiver(tmp_path).start()
    try:
        delivered = subprocess.run(
            [sys.executable, "-c", "import mltrace_otel as m; print(m.flush())"],
            env=subprocess_env(home, MLTRACE_BACKEND="otlp",
                               OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint),
            capture_output=True, text=True, timeout=60,
        )
    finally:
        receiver.kill()
    assert delivered.stdout.strip() == "True", delivered.stderr
    return sorted(span["name"] for span in receiver.spans())  # type: ignore[misc]


def test_an_otlp_outage_mid_pipeline_loses_no_run(home: Path, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path).start()
    driver = Driver(tmp_path, home, MLTRACE_BACKEND="otlp",
                    OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    outbox = Outbox(home / "outbox")
    try:
        assert driver.send("log 20") == "logged"
        assert driver.flush()[0] is True
        assert len(_runs(receiver)) == 20

        receiver.kill()
        assert driver.send("log 30") == "logged"
        delivered, seconds = driver.flush()
        assert delivered is False
        assert seconds < TIMEOUT + SLACK
        assert outbox.pending_spans() == 30
        assert driver.flush()[0] is False  # still down: still undelivered

        receiver.start()  # the same port again
        delivered, _ = driver.flush()
        assert delivered is True
        assert outbox.files() == []
        assert driver.send("log 10") == "logged"
        _, stderr = driver.quit()
    finally:
        receiver.kill()
        driver.process.kill()
    assert len(_runs(receiver)) == 60
    pipelines = [span for span in receiver.spans() if span["pipeline"] == "outage"]
    assert len(pipelines) == 1
    # One trace: every run is a child of the pipeline span.
    assert {span["trace_id"] for span in receiver.spans()} == {pipelines[0]["trace_id"]}
    warnings = _warnings(stderr)
    assert len(warnings) == 1, stderr
    assert "outbox" in warnings[0] and receiver.endpoint in warnings[0]


def test_the_next_process_delivers_the_outbox(home: Path, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path)  # not started: the backend is down
    env = {"MLTRACE_BACKEND": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    driver = Driver(tmp_path, home, **env)
    assert driver.send("log 25") == "logged"
    seconds, stderr = driver.quit()
    assert seconds < TIMEOUT + SLACK  # exit waits for one export timeout at most
    assert len(_warnings(stderr)) == 1, stderr
    outbox = Outbox(home / "outbox")
    assert outbox.pending_spans() == 26  # 25 runs and the pipeline span

    receiver.start()
    try:
        flushed = subprocess.run(
            [sys.executable, "-c", "import mltrace_otel as m; print(m.flush())"],
            env=subprocess_env(home, OTEL_EXPORTER_OTLP_TIMEOUT=str(TIMEOUT), **env),
            capture_output=True, text=True, timeout=60,
        )
    finally:
        receiver.kill()
    assert flushed.stdout.strip() == "True", flushed.stderr
    assert flushed.stderr == ""
    assert len(_runs(receiver)) == 25
    assert outbox.files() == []


@pytest.mark.parametrize("backend", ["otlp", "clickhouse"])
def test_a_backend_that_accepts_and_never_answers_does_not_block(
    home: Path, tmp_path: Path, backend: str
) -> None:
    with silent_listener() as port:
        driver = Driver(
            tmp_path, home, MLTRACE_BACKEND=backend,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
            MLTRACE_CLICKHOUSE_URL=f"http://writer:s3cret-pw@127.0.0.1:{port}/default",
        )
        assert driver.send("log 5") == "logged"
        delivered, seconds = driver.flush()
        assert delivered is False
        assert seconds < TIMEOUT + SLACK
        assert driver.send("log 5") == "logged"
        delivered, seconds = driver.flush()  # one more try, bounded the same way
        assert delivered is False and seconds < TIMEOUT + SLACK
        exit_seconds, stderr = driver.quit()
    assert exit_seconds < TIMEOUT + SLACK
    assert Outbox(home / "outbox").pending_spans() == 11
    warnings = _warnings(stderr)
    assert len(warnings) == 1, stderr
    assert "s3cret-pw" not in stderr


def test_set_db_uri_of_no_server_keeps_runs_in_the_outbox(home: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path, "compat.py", """
        import mltrace_otel as mltrace

        mltrace.set_db_uri("staging-db")

        @mltrace.register("legacy", input_vars=["a"], output_vars=["b"])
        def legacy():
            a, b = "a.csv", "b.csv"

        for _ in range(3):
            legacy()
        print(mltrace.flush())
    """)
    proc = subprocess.run([sys.executable, str(script)], env=subprocess_env(home),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    warnings = _warnings(proc.stderr)
    assert len(warnings) == 1 and "'staging-db' is not a ClickHouse server URL" in warnings[0]
    assert Outbox(home / "outbox").pending_spans() == 3

    assert _delivered_by_an_otlp_process(home, tmp_path) == ["legacy"] * 3


def test_an_unknown_backend_keeps_runs_in_the_outbox(home: Path, tmp_path: Path) -> None:
    """A misspelt MLTRACE_BACKEND raises into no call of the pipeline: runs wait in the outbox
    with one warning naming the setting, for a process configured to send them."""
    script = write_script(tmp_path, "typo.py", """
        import mltrace_otel as mltrace

        stage = mltrace.Component("stage")

        @stage.run(input_vars=["source"], output_vars=["target", "model"])
        def step():
            source, target = "in.csv", "out.csv"
            model = {"weights": [1, 2]}  # saved under SAVE_DIR: settings the SDK resolves

        step()
        mltrace.save({"kept": True})
        run = mltrace.ComponentRun("explicit")
        run.set_start_timestamp()
        run.add_output("explicit.csv")
        run.set_end_timestamp()
        mltrace.log_component_run(run)
        print(mltrace.flush())
    """)
    proc = subprocess.run([sys.executable, str(script)],
                          env=subprocess_env(home, MLTRACE_BACKEND="clickhose"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    (warning,) = _warnings(proc.stderr)
    assert "unknown backend 'clickhose'" in warning
    assert "next process configured to send them" in warning
    assert Outbox(home / "outbox").pending_spans() == 2

    assert _delivered_by_an_otlp_process(home, tmp_path) == ["explicit", "stage"]


def test_the_outbox_bound_drops_the_oldest_with_one_warning(home: Path, tmp_path: Path) -> None:
    driver = Driver(
        tmp_path, home, MLTRACE_BACKEND="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        MLTRACE_OUTBOX_MAX_FILES="3",
    )
    for _ in range(5):  # each flush writes one batch of 2 runs
        assert driver.send("log 2") == "logged"
        assert driver.flush()[0] is False
    outbox = Outbox(home / "outbox")
    assert len(outbox.files()) == 3
    assert outbox.pending_spans() == 6
    _, stderr = driver.quit()
    assert len(outbox.files()) == 3  # the pipeline span's batch at exit pushed one more out
    warnings = _warnings(stderr)
    dropped = [line for line in warnings if "reached its bound" in line]
    assert len(dropped) == 3, stderr
    assert all("the 2 oldest undelivered span(s) were dropped" in line for line in dropped)
    assert len(warnings) == 4, stderr  # and the one outage warning


def test_an_unwritable_outbox_keeps_runs_in_memory_until_delivery(
    home: Path, tmp_path: Path
) -> None:
    (home / "outbox").write_text("a file where the outbox folder should be")
    receiver = Receiver(tmp_path)
    driver = Driver(tmp_path, home, MLTRACE_BACKEND="otlp",
                    OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    try:
        assert driver.send("log 5") == "logged"
        assert driver.flush()[0] is False
        (home / "outbox").unlink()
        receiver.start()
        assert driver.flush()[0] is True
        _, stderr = driver.quit()
    finally:
        receiver.kill()
        driver.process.kill()
    assert len(_runs(receiver)) == 5
    warnings = _warnings(stderr)
    assert len(warnings) == 1 and "wait in memory" in warnings[0], stderr


def test_runs_held_in_memory_at_exit_are_named_in_one_warning(
    home: Path, tmp_path: Path
) -> None:
    """Backend down and outbox unwritable until the end: the exit says what is lost."""
    (home / "outbox").write_text("a file where the outbox folder should be")
    driver = Driver(tmp_path, home, MLTRACE_BACKEND="otlp",
                    OTEL_EXPORTER_OTLP_ENDPOINT=Receiver(tmp_path).endpoint)
    try:
        assert driver.send("log 4") == "logged"
        assert driver.flush()[0] is False
        _, stderr = driver.quit()
    finally:
        driver.process.kill()
    warnings = _warnings(stderr)
    assert len(warnings) == 2, stderr
    assert "wait in memory" in warnings[0]
    assert "5 finished span(s)" in warnings[1] and "lost at exit" in warnings[1]


def test_a_run_with_a_large_pointer_set_travels_in_requests_a_collector_accepts(
    home: Path, tmp_path: Path
) -> None:
    """400,000 output names (about 12 MB of pointers) become a run span and continuation
    spans; no export request reaches the 4 MiB a Collector's OTLP gRPC receiver accepts."""
    receiver = Receiver(tmp_path).start()
    try:
        script = write_script(tmp_path, "large.py", """
            import mltrace_otel as mltrace

            @mltrace.Component("scorer").run(output_vars=["scores"])
            def score():
                scores = [f"scores/record-{i:09d}.json" for i in range(400_000)]

            score()
            print(mltrace.flush())
        """)
        done = subprocess.run(
            [sys.executable, str(script)],
            env=subprocess_env(
                home, MLTRACE_BACKEND="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint
            ),
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["True"], done.stderr
        spans = [span for span in receiver.spans() if span["name"] == "scorer"]
    finally:
        receiver.kill()
    assert len(spans) >= 10  # the run span and its continuation spans all arrived
    sizes = {int(span["request_bytes"]) for span in spans}  # type: ignore[call-overload]
    assert len(sizes) >= 2  # in several requests
    assert max(sizes) < 4 << 20


EXIT_HANDLER = """
    import atexit
    import sys

    import mltrace_otel as mltrace

    stage = mltrace.Component("stage")

    @stage.run(output_vars=["target"])
    def save(tag):
        target = f"model-{tag}.pkl"

    def at_exit():
        save("at-exit")
        print("flushed", mltrace.flush(), file=sys.stderr)

    atexit.register(at_exit)  # before the first run starts tracing: it runs after mltrace's
    save("main")
"""


@pytest.mark.parametrize("backend", ["local", "otlp"])
def test_a_run_that_ends_in_an_earlier_exit_handler_is_kept(
    home: Path, tmp_path: Path, backend: str
) -> None:
    receiver = Receiver(tmp_path)  # never started: the otlp backend is down
    proc = subprocess.run(
        [sys.executable, str(write_script(tmp_path, "exit_handler.py", EXIT_HANDLER))],
        env=subprocess_env(home, MLTRACE_BACKEND=backend,
                           OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                           OTEL_EXPORTER_OTLP_TIMEOUT=str(TIMEOUT)),
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    if backend == "local":
        assert "flushed True" in proc.stderr, proc.stderr
        import mltrace_otel as mltrace

        assert sorted(run.outputs[0] for run in mltrace.get_history("stage")) == [
            "model-at-exit.pkl", "model-main.pkl"]
    else:
        assert "flushed False" in proc.stderr, proc.stderr
        assert Outbox(home / "outbox").pending_spans() == 2


def test_otel_sdk_disabled_is_said_once_and_flush_tells(home: Path, tmp_path: Path) -> None:
    """OTEL_SDK_DISABLED=true switches OpenTelemetry off, mltrace's runs included: not
    silently (one warning) and not with a flush() that says everything was delivered."""
    script = write_script(tmp_path, "disabled.py", """
        import mltrace_otel as mltrace

        @mltrace.Component("stage").run(output_vars=["target"])
        def step():
            target = "out.csv"

        print(mltrace.flush())
        step()
        step()
        print(mltrace.flush())
    """)
    proc = subprocess.run([sys.executable, str(script)],
                          env=subprocess_env(home, OTEL_SDK_DISABLED="true"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False"]
    (warning,) = _warnings(proc.stderr)
    assert warning == ("mltrace: a run was not recorded: OTEL_SDK_DISABLED=true turns "
                       "OpenTelemetry off in this process; flush() returns False from now on")


def test_runs_the_applications_sampler_drops_are_said_once(home: Path, tmp_path: Path) -> None:
    """mltrace logs through the application's TracerProvider when it set one; if its sampler
    drops a run, that is one warning and flush() says so."""
    script = write_script(tmp_path, "sampled.py", """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

        trace.set_tracer_provider(TracerProvider(sampler=ALWAYS_OFF))
        import mltrace_otel as mltrace

        @mltrace.Component("stage").run(output_vars=["target"])
        def step():
            target = "out.csv"

        step()
        step()
        print(mltrace.flush())
    """)
    proc = subprocess.run([sys.executable, str(script)], env=subprocess_env(home),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False"]
    (warning,) = _warnings(proc.stderr)
    assert "the application's TracerProvider does not record it" in warning
