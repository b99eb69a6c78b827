"""The OTLP/HTTP receiver over real loopback sockets: content types, encodings, limits, error
answers, partial success, durability before 200, and retries by the real Python exporter."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from _otlp_support import otlp_json, post, running_receiver, spool_files, store_rows
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def request_of(count: int, *, service: str = "svc", start: int = 1_700_000_000_000_000_000
               ) -> ExportTraceServiceRequest:
    """A request of ``count`` spans of one trace, each with an attribute and an event."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", service
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name, scope_spans.scope.version = "scope", "1.2"
    for index in range(count):
        span = scope_spans.spans.add()
        span.trace_id = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
        span.span_id = (index + 1).to_bytes(8, "big")
        span.name = f"step-{index}"
        span.kind = Span.SPAN_KIND_INTERNAL
        span.start_time_unix_nano = start + index
        span.end_time_unix_nano = start + index + 1_000
        pair = span.attributes.add()
        pair.key, pair.value.int_value = "index", index
        event = span.events.add()
        event.name, event.time_unix_nano = "checked", start + index + 10
        span.status.code = Status.STATUS_CODE_OK
    return request


def spool_table(home: Path) -> pa.Table:
    tables = [pa.ipc.open_file(pa.memory_map(str(path))).read_all() for path in spool_files(home)]
    return pa.concat_tables(tables)


@pytest.fixture
def receiver(tmp_path: Path):
    home = tmp_path / "home"
    with running_receiver(home) as url:
        yield home, url


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_protobuf_request_is_in_the_spool_when_answered(receiver, encoding) -> None:
    home, url = receiver
    status, headers, body = post(url, request_of(3).SerializeToString(), PROTOBUF, encoding)
    assert status == 200
    assert headers["Content-Type"] == PROTOBUF
    response = ExportTraceServiceResponse.FromString(body)
    assert not response.HasField("partial_success")
    # Durable before the answer: the file is already published, no temporary file left.
    assert len(spool_files(home)) == 1
    assert not [path for path in (home / "spool").iterdir() if path.suffix == ".tmp"]
    table = spool_table(home)
    assert table.column("SpanName").to_pylist() == ["step-0", "step-1", "step-2"]
    assert table.column("ServiceName").to_pylist() == ["svc"] * 3


@pytest.mark.parametrize("encoding", [None, "gzip"])
@pytest.mark.parametrize("integer_enums", [False, True])
def test_json_request_with_hex_ids(receiver, encoding, integer_enums) -> None:
    home, url = receiver
    body = otlp_json(request_of(2), integer_enums=integer_enums)
    assert b"0af7651916cd43dd8448eb211c80319c" in body  # really hex, not base64
    status, headers, answer = post(url, body, JSON, encoding)
    assert status == 200, answer
    assert headers["Content-Type"].startswith(JSON)
    assert json.loads(answer) == {}
    table = spool_table(home)
    assert table.column("TraceId").to_pylist() == ["0af7651916cd43dd8448eb211c80319c"] * 2
    assert table.column("SpanId").to_pylist() == ["0000000000000001", "0000000000000002"]
    assert table.column("SpanKind").to_pylist() == ["Internal"] * 2
    assert table.column("StatusCode").to_pylist() == ["Ok"] * 2


def test_json_int64_as_numbers_or_strings_and_unknown_fields(receiver) -> None:
    home, url = receiver
    document = {
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]},
            "futureField": {"ignored": True},
            "scopeSpans": [{"scope": {"name": "browser"}, "spans": [
                {"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
                 "name": "as-string", "kind": "SPAN_KIND_SERVER",
                 "startTimeUnixNano": "1544712660000000000",
                 "endTimeUnixNano": "1544712661000000000",
                 "attributes": [{"key": "n", "value": {"intValue": "7"}},
                                {"key": "ok", "value": {"boolValue": True}},
                                {"key": "xs", "value": {"arrayValue": {"values": [
                                    {"doubleValue": 1.0}, {"stringValue": "a"}]}}}]},
                {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b175",
                 "name": "as-number", "kind": 3, "startTimeUnixNano": 1544712660000000000,
                 "endTimeUnixNano": 1544712660500000000, "status": {"code": 2, "message": "x"}},
            ]}],
        }]
    }
    status, _, answer = post(url, json.dumps(document).encode(), JSON)
    assert status == 200, answer
    rows = {row["SpanName"]: row for row in spool_table(home).to_pylist()}
    assert rows["as-string"]["SpanId"] == "eee19b7ec3c1b174"
    assert rows["as-string"]["SpanKind"] == "Server"
    assert rows["as-string"]["Duration"] == 1_000_000_000
    assert dict(rows["as-string"]["SpanAttributes"]) == {"n": "7", "ok": "true", "xs": '[1,"a"]'}
    assert rows["as-number"]["SpanKind"] == "Client"
    assert rows["as-number"]["StatusCode"] == "Error"
    assert rows["as-number"]["StatusMessage"] == "x"
    assert rows["as-number"]["ServiceName"] == "js"


def status_of(body: bytes, content_type: str) -> status_pb2.Status:
    if content_type == JSON:
        from google.protobuf import json_format

        return json_format.Parse(body, status_pb2.Status())
    return status_pb2.Status.FromString(body)


def invalid_utf8_request() -> bytes:
    """A protobuf request whose span name is not UTF-8 (an invalid message)."""
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(name="abc")
    return request.SerializeToString().replace(b"abc", b"a\xe9c")


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "expected"),
    [
        (b"\x0a\xff\xff\xff", PROTOBUF, None, 400),  # truncated protobuf
        (invalid_utf8_request(), PROTOBUF, None, 400),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "a\\ud800"}]}]}]}', JSON,
         None, 400),
        (b"{not json", JSON, None, 400),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', JSON,
         None, 400),
        (b'["not", "an", "object"]', JSON, None, 400),
        (b"not gzip at all", PROTOBUF, "gzip", 400),
        (b"", "text/plain", None, 415),
        (b"", "application/grpc", None, 415),
    ],
)
def test_bad_requests_get_a_status_body_and_store_nothing(
    receiver, body, content_type, encoding, expected
) -> None:
    home, url = receiver
    status, headers, answer = post(url, body, content_type, encoding)
    assert status == expected
    reply_type = JSON if content_type == JSON else PROTOBUF
    assert headers["Content-Type"].startswith(reply_type)
    assert status_of(answer, reply_type).message
    assert spool_files(home) == []


@pytest.mark.parametrize("encoding", ["snappy", "br", "zstd"])
def test_unsupported_content_encoding_is_415(receiver, encoding: str) -> None:
    """Also codings aiohttp would decode (or reject with its own 400) on its own."""
    home, url = receiver
    body = request_of(1).SerializeToString()
    status, _, answer = post(url, body, PROTOBUF, headers={"Content-Encoding": encoding})
    assert status == 415
    assert "encoding" in status_pb2.Status.FromString(answer).message
    assert spool_files(home) == []


def test_only_post_on_v1_traces(receiver) -> None:
    _, url = receiver
    assert post(url, b"", PROTOBUF, method="GET")[0] == 405
    assert post(url.replace("/v1/traces", "/v1/logs"), b"", PROTOBUF)[0] == 404


def test_body_past_the_limit_is_413_also_after_decompression(tmp_path: Path) -> None:
    home = tmp_path / "home"
    big = request_of(2_000).SerializeToString()
    assert len(big) > 64 << 10
    with running_receiver(home, max_body_bytes=64 << 10) as url:
        status, _, answer = post(url, big, PROTOBUF)
        assert status == 413
        assert "larger than" in status_pb2.Status.FromString(answer).message
        # A small gzip body that inflates past the limit (a zip bomb) is refused the same way.
        bomb = b"\x00" * (8 << 20)
        status, _, _ = post(url, bomb, PROTOBUF, "gzip")
        assert status == 413
        assert post(url, request_of(5).SerializeToString(), PROTOBUF)[0] == 200
    assert len(spool_files(home)) == 1


def test_partial_success_counts_spans_with_bad_ids(receiver) -> None:
    home, url = receiver
    request = request_of(4)
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[1].trace_id = b"\x01" * 5
    spans[2].links.add(trace_id=b"\x02" * 16, span_id=b"\x03" * 3)
    for content_type in (PROTOBUF, JSON):
        body = request.SerializeToString() if content_type == PROTOBUF else otlp_json(request)
        status, _, answer = post(url, body, content_type)
        assert status == 200
        if content_type == PROTOBUF:
            response = ExportTraceServiceResponse.FromString(answer)
            assert response.partial_success.rejected_spans == 2
            message = response.partial_success.error_message
        else:
            partial = json.loads(answer)["partialSuccess"]
            assert partial["rejectedSpans"] == "2"
            message = partial["errorMessage"]
        assert "'step-1'" in message and "trace_id has 5 bytes, not 16" in message
        assert "'step-2'" in message and "link span_id has 3 bytes, not 8" in message
    names = spool_table(home).column("SpanName").to_pylist()
    assert names == ["step-0", "step-3"] * 2


def test_request_with_no_spans_answers_200_and_writes_nothing(receiver) -> None:
    home, url = receiver
    assert post(url, b"", PROTOBUF)[0] == 200
    assert post(url, b"{}", JSON)[0] == 200
    assert spool_files(home) == []


def test_unwritable_spool_is_503_with_retry_after(receiver) -> None:
    home, url = receiver
    home.mkdir(parents=True)
    (home / "spool").write_text("a file where the spool folder should be")
    status, headers, answer = post(url, request_of(1).SerializeToString(), PROTOBUF)
    assert status == 503
    assert headers["Retry-After"] == "1"
    assert "spool" in status_pb2.Status.FromString(answer).message


def sdk_spans(count: int) -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "exporter-test"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test-scope", "0.1")
    for index in range(count):
        with tracer.start_as_current_span(f"span-{index}") as span:
            span.set_attribute("index", index)
            span.set_attribute("ratio", index / 3)
    provider.shutdown()
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip,
                                         Compression.Deflate])
def test_real_python_exporter(receiver, compression) -> None:
    home, url = receiver
    spans = sdk_spans(20)
    exporter = OTLPSpanExporter(endpoint=url, compression=compression, timeout=10)
    assert exporter.export(spans).name == "SUCCESS"
    exporter.shutdown()
    rows = store_rows(home)
    assert len(rows) == 20
    assert {row["ServiceName"] for row in rows} == {"exporter-test"}
    assert {row["ScopeName"] for row in rows} == {"test-scope"}
    by_name = {row["SpanName"]: row for row in rows}
    assert by_name["span-4"]["SpanAttributes"]["ratio"] == "1.3333333333333333"


def test_real_exporter_retries_a_503_until_the_spool_is_writable(receiver) -> None:
    home, url = receiver
    home.mkdir(parents=True)
    blocker = home / "spool"
    blocker.write_text("not a folder")

    def unblock() -> None:
        time.sleep(0.5)
        os.unlink(blocker)

    threading.Thread(target=unblock).start()
    exporter = OTLPSpanExporter(endpoint=url, timeout=15)
    started = time.monotonic()
    assert exporter.export(sdk_spans(3)).name == "SUCCESS"
    assert time.monotonic() - started >= 0.5
    exporter.shutdown()
    assert len(spool_table(home)) == 3


def test_concurrent_requests_each_become_one_spool_file(receiver) -> None:
    home, url = receiver
    body = request_of(3).SerializeToString()
    statuses: list[int] = []

    def client() -> None:
        for _ in range(5):
            statuses.append(post(url, body, PROTOBUF, "gzip")[0])

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 40
    assert len(spool_files(home)) == 40
    assert store_rows(home, "SELECT count() AS n FROM otel_traces") == [{"n": 120}]


def test_json_with_charset_parameter(receiver) -> None:
    home, url = receiver
    status, headers, _ = post(url, otlp_json(request_of(1)), "application/json; charset=utf-8")
    assert status == 200
    assert headers["Content-Type"].startswith(JSON)
    assert len(spool_files(home)) == 1
