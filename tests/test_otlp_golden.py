"""One row mapping: the same runs logged through the SDK spool, posted as OTLP protobuf, as
OTLP/JSON (enum names and enum numbers) and sent by the real Python OTLP exporter to the
receiver give identical ``otel_traces`` rows in the embedded store, and the same answers to
``mltrace.trace``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _otlp_support import otlp_json, post, running_receiver, spool_files, store_rows
from _support import PROCESS_TIMEOUT, subprocess_env
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import mltrace_otel as mltrace

PIPELINE = r'''
import sys
from pathlib import Path

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

home, protobuf_path, exporter_url = sys.argv[1:4]
memory = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({
    "service.name": "golden", "deployment.environment.name": "test", "host.cpu.count": 2,
    "build.flags": ("-O2", "-g"),
}))
provider.add_span_processor(SimpleSpanProcessor(memory))
trace.set_tracer_provider(provider)

import mltrace_otel as mltrace

mltrace.configure(backend="local", home=home)


class TotalTest(mltrace.Test):
    def testPositive(self, total):
        assert total > 0, f"total is {total}"


ingest = mltrace.Component("ingest", owner="ana", description="reads <raw> & more",
                           tags=["raw", "daily"])
featurize = mltrace.Component("featurize", owner="bo", afterTests=[TotalTest])
train = mltrace.Component("train", owner="cy")


@ingest.run(input_vars=["source"], output_vars=["table"])
def load(source):
    table = source.replace(".csv", ".parquet")
    span = trace.get_current_span()
    span.set_attribute("rows.count", 1234)
    span.set_attribute("rows.ratio", 0.125)
    span.set_attribute("rows.tiny", 1.5e-7)
    span.set_attribute("rows.big", 2.5e21)
    span.set_attribute("rows.whole", 3.0)
    span.set_attribute("rows.nan", float("nan"))
    span.set_attribute("rows.negative_zero", -0.0)
    span.set_attribute("losses", (0.5, float("nan")))
    span.set_attribute("flags", (True, False))
    span.set_attribute("scores", (0.5, 1.0, 1e-5))
    span.set_attribute("counts", (1, -2, 2**62))
    span.set_attribute("text", "caf\u00e9 \u2028 <&> \"quoted\" \t")
    span.add_event("loaded", {"n": 3, "ok": True, "names": ("a", "b")})
    return table


@featurize.run(input_vars=["table"], output_vars=["features"])
def featurize_table(table):
    features = table + ".features"
    total = 7
    return features


@train.run(input_vars=["features"], output_vars=["model"])
def fit(features, fail=False):
    model = features + ".model"
    if fail:
        raise ValueError("diverged: loss is nan")
    return model


for source in ("a.csv", "b.csv"):
    fit(featurize_table(load(source)))
try:
    fit("a.parquet.features", fail=True)
except ValueError:
    pass
assert mltrace.flush()
spans = memory.get_finished_spans()
Path(protobuf_path).write_bytes(encode_spans(spans).SerializeToString())
print(len(spans), OTLPSpanExporter(endpoint=exporter_url, timeout=10).export(spans).name)
'''


def test_sdk_spool_protobuf_json_and_exporter_give_identical_rows(tmp_path: Path) -> None:
    homes = {name: tmp_path / name for name in ("spool", "protobuf", "json", "enums", "exporter")}
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    protobuf_path = tmp_path / "request.pb"
    with running_receiver(homes["exporter"]) as exporter_url:
        proc = subprocess.run(
            [sys.executable, str(script), str(homes["spool"]), str(protobuf_path), exporter_url],
            env=subprocess_env(homes["spool"]), capture_output=True, text=True,
            timeout=PROCESS_TIMEOUT,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["7", "SUCCESS"]
    assert len(spool_files(homes["spool"])) >= 1 and len(spool_files(homes["exporter"])) == 1

    request = ExportTraceServiceRequest.FromString(protobuf_path.read_bytes())
    bodies = {
        "protobuf": (request.SerializeToString(), "application/x-protobuf", "gzip"),
        "json": (otlp_json(request), "application/json", None),
        "enums": (otlp_json(request, integer_enums=True), "application/json", "deflate"),
    }
    for name, (body, content_type, encoding) in bodies.items():
        with running_receiver(homes[name]) as url:
            status, _, answer = post(url, body, content_type, encoding)
            assert status == 200, answer

    rows = {name: store_rows(home) for name, home in homes.items()}
    reference = rows["spool"]
    assert len(reference) == 7
    for name, found in rows.items():
        assert found == reference, name

    by_name = {}
    for row in reference:
        by_name.setdefault(row["SpanName"], []).append(row)
    load = by_name["ingest"][0]
    assert load["ServiceName"] == "golden"
    assert load["ResourceAttributes"]["host.cpu.count"] == "2"
    assert load["ResourceAttributes"]["build.flags"] == '["-O2","-g"]'
    attributes = load["SpanAttributes"]
    assert attributes["rows.ratio"] == "0.125"
    assert attributes["rows.tiny"] == "1.5e-7"
    assert attributes["rows.big"] == "2.5e+21"
    assert attributes["rows.whole"] == "3"
    assert attributes["rows.nan"] == "NaN"
    assert attributes["rows.negative_zero"] == "-0"
    assert attributes["losses"] == ""  # Go's JSON refuses NaN, so AsString gives ""
    assert attributes["scores"] == "[0.5,1,0.00001]"
    assert attributes["counts"] == f"[1,-2,{2**62}]"
    assert attributes["text"] == 'caf\u00e9 \u2028 <&> "quoted" \t'
    assert load["Events.Name"] == ["loaded"]
    assert load["Events.Attributes"][0] == {"n": "3", "ok": "true", "names": '["a","b"]'}
    featurize = next(
        row for row in by_name["featurize"]
        if row["SpanAttributes"]["mltrace.run.inputs"] == attributes["mltrace.run.outputs"]
    )
    assert featurize["Links.SpanId"] == [load["SpanId"]]
    assert "mltrace.test" in featurize["Events.Name"]
    failed = [row for row in by_name["train"] if row["StatusCode"] == "Error"]
    assert len(failed) == 1 and "diverged" in failed[0]["StatusMessage"]
    assert {row["SpanKind"] for row in reference} == {"Internal"}

    # The lineage queries (mltrace.trace's walk) answer the same from every store.
    answers = {}
    for name, home in homes.items():
        mltrace.configure(backend="local", home=home)
        answers[name] = [
            (level, run.component_name, run.id, tuple(run.inputs), tuple(run.outputs))
            for level, run in mltrace.trace("b.parquet.features.model")
        ]
    mltrace.configure(backend="local", home=tmp_path / "parked")
    assert [answer[:2] for answer in answers["spool"]] == [
        (0, "train"), (1, "featurize"), (2, "ingest")
    ]
    assert all(answer == answers["spool"] for answer in answers.values())
