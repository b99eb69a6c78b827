"""`mltrace serve`'s ClickHouse HTTP interface with real clients: clickhouse-connect and curl,
against a real server subprocess on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator

import clickhouse_connect
import pyarrow as pa
import pyarrow.ipc
import pytest
from _serve import ServeProcess, start_serve
from clickhouse_connect.driver.exceptions import DatabaseError

from mltrace_otel.server import native

CURL = shutil.which("curl")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("serve_http")
    process = start_serve(home, otlp=False)
    yield process
    code, err = process.stop()
    assert code == 0, err


def curl(server: ServeProcess, *args: str, path: str = "/", data: bytes | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    """Run curl; (status, lower-cased headers, body)."""
    assert CURL, "curl is part of the test machine (Debian package curl)"
    proc = subprocess.run(
        [CURL, "-sS", "-g", "-D", "-", *args,
         *(["--data-binary", "@-"] if data is not None else []), server.url + path],
        input=data, capture_output=True, timeout=60, check=True,
    )
    head, _, body = proc.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def q(sql: str, **params: str) -> str:
    return "/?" + urllib.parse.urlencode({"query": sql, **params})


# -- curl ------------------------------------------------------------------------------------
def test_ping_and_root(server: ServeProcess) -> None:
    assert curl(server, path="/ping")[2] == b"Ok.\n"
    status, _, body = curl(server)
    assert (status, body) == (200, b"Ok.\n")


def test_get_and_post_queries_with_headers(server: ServeProcess) -> None:
    status, headers, body = curl(server, path=q("SELECT 1 AS one, 'a' AS s"))
    assert (status, body) == (200, b"1\ta\n")
    assert headers["x-clickhouse-format"] == "TabSeparated"
    assert headers["x-clickhouse-timezone"] == "UTC"
    assert headers["x-clickhouse-query-id"]
    assert headers["x-clickhouse-server-display-name"]
    assert json.loads(headers["x-clickhouse-summary"])["read_rows"] == "1"
    # the body is appended to the URL's query after a newline
    status, headers, body = curl(server, path=q("SELECT number FROM numbers(3)"),
                                 data=b"WHERE number > 0 FORMAT JSONEachRow")
    assert body.splitlines() == [b'{"number":"1"}', b'{"number":"2"}']
    assert headers["x-clickhouse-format"] == "JSONEachRow"
    status, _, body = curl(server, path="/?default_format=CSV&query_id=abc",
                           data=b"SELECT 'x', 2")
    assert body == b'"x",2\n'


def test_bound_parameters(server: ServeProcess) -> None:
    status, _, body = curl(server, path=q("SELECT {s:String}, {n:UInt8} + 1, {a:Array(String)}",
                                          param_s="it's", param_n="41", param_a="['x','y']"))
    assert (status, body) == (200, b"it\\'s\t42\t['x','y']\n")


def test_errors_as_clickhouse_sends_them(server: ServeProcess) -> None:
    status, headers, body = curl(server, data=b"SELECT * FROM no_such_table")
    assert status == 404
    assert headers["x-clickhouse-exception-code"] == "60"
    assert body.startswith(b"Code: 60. DB::Exception: ") and b"(UNKNOWN_TABLE)" in body
    status, headers, body = curl(server, data=b"SELEC 1")
    assert (status, headers["x-clickhouse-exception-code"]) == (400, "62")
    status, headers, _ = curl(server, data=b"SELECT 1; SELECT 2")
    assert (status, headers["x-clickhouse-exception-code"]) == (400, "62")
    status, headers, _ = curl(server, data=b"SELECT 1 INTO OUTFILE '/tmp/mltrace-x'")
    assert headers["x-clickhouse-exception-code"] == "358"


def test_get_is_readonly_like_clickhouse(server: ServeProcess) -> None:
    status, headers, body = curl(server, path=q("CREATE TABLE g (a UInt8) ENGINE = Memory"))
    assert (status, headers["x-clickhouse-exception-code"]) == (500, "164")
    assert b"readonly" in body


def test_inserts_in_every_format_with_curl(server: ServeProcess) -> None:
    ddl = b"CREATE TABLE fmt (a UInt32, b String) ENGINE = MergeTree ORDER BY a"
    assert curl(server, data=ddl)[0] == 200
    schema = pa.schema([("a", pa.uint32()), ("b", pa.string())])
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_file(sink, schema) as writer:
        writer.write_table(pa.table({"a": [3], "b": ["arrow"]}, schema=schema))
    row_binary = (4).to_bytes(4, "little") + b"\x09rowbinary"
    sends = [
        (q("INSERT INTO fmt FORMAT JSONEachRow"), b'{"a":1,"b":"json"}\n'),
        ("/", b'INSERT INTO fmt (a, b) FORMAT TSV\n2\ttsv\n'),
        (q("INSERT INTO fmt FORMAT Arrow"), sink.getvalue().to_pybytes()),
        (q("INSERT INTO fmt (a, b) FORMAT RowBinary"), row_binary),
        (q("INSERT INTO fmt FORMAT Values"), b"(5, 'values')"),
    ]
    for path, data in sends:
        status, _, body = curl(server, "-H", "Content-Type: application/octet-stream",
                               path=path, data=data)
        assert status == 200, body
    _, _, body = curl(server, data=b"SELECT a, b FROM fmt ORDER BY a FORMAT CSV")
    assert body.decode().splitlines() == [
        '1,"json"', '2,"tsv"', '3,"arrow"', '4,"rowbinary"', '5,"values"']


def test_compressed_bodies(server: ServeProcess) -> None:
    status, headers, body = curl(
        server, "-H", "Content-Encoding: gzip", "-H", "Accept-Encoding: gzip",
        path="/?enable_http_compression=1", data=gzip.compress(b"SELECT 'zipped'"))
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == b"zipped\n"
    # ClickHouse's own compressed blocks (decompress=1 / compress=1, as clickhouse-go sends)
    status, _, body = curl(server, path="/?decompress=1&compress=1",
                           data=native.compress_blocks(b"SELECT 'blocks'"))
    assert status == 200 and native.decompress_blocks(body, 1 << 20) == b"blocks\n"
    corrupt = bytearray(native.compress_blocks(b"SELECT 1"))
    corrupt[20] ^= 0xFF
    status, headers, _ = curl(server, path="/?decompress=1", data=bytes(corrupt))
    assert headers["x-clickhouse-exception-code"] == "271"
    status, headers, _ = curl(server, "-H", "Content-Encoding: gzip", data=b"SELECT 'not gzip'")
    assert headers.get("x-clickhouse-exception-code") == "271"  # not an unhandled error


# -- clickhouse-connect ----------------------------------------------------------------------
@pytest.mark.parametrize("compress", [True, False])
def test_clickhouse_connect_queries_and_inserts(server: ServeProcess, compress: bool) -> None:
    client = clickhouse_connect.get_client(dsn=server.url, compress=compress)
    table = f"cc_{int(compress)}"
    client.command(f"CREATE TABLE {table} (id UInt64, name LowCardinality(String), "
                   "tags Array(String), attrs Map(LowCardinality(String), String), "
                   "at DateTime64(9, 'UTC')) ENGINE = MergeTree ORDER BY id")
    rows = [[i, f"n{i}", [f"t{i}"] * i, {"k": str(i)}, "2024-01-01 00:00:00"] for i in range(500)]
    client.insert(table, rows, column_names=["id", "name", "tags", "attrs", "at"])
    result = client.query(f"SELECT id, name, tags, attrs FROM {table} "
                          "WHERE id >= {low:UInt64} ORDER BY id", parameters={"low": 498})
    assert result.result_rows == [(498, "n498", ["t498"] * 498, {"k": "498"}),
                                  (499, "n499", ["t499"] * 499, {"k": "499"})]
    assert client.query_arrow(f"SELECT count() AS c FROM {table}").column("c").to_pylist() == [500]
    assert client.command("SELECT 1 + {x:UInt8}", parameters={"x": 1}) == 2
    with pytest.raises(DatabaseError) as caught:
        client.query("SELECT * FROM no_such_table")
    assert "UNKNOWN_TABLE" in str(caught.value)
    client.close()


def test_clickhouse_connect_reads_the_block_info_layout(server: ServeProcess) -> None:
    """clickhouse-connect probes client_protocol_version and then reads every Native result in
    that revision's layout: the server's re-encoding is exercised on a mix of types."""
    client = clickhouse_connect.get_client(dsn=server.url)
    assert client.protocol_version > 0
    result = client.query(
        "SELECT number AS n, toString(number) AS s, toLowCardinality(toString(number % 3)) AS lc,"
        " [map(toLowCardinality('k'), [toNullable(number)])] AS nested,"
        " (number, 'x')::Tuple(a UInt64, b String) AS t, toDecimal64(number, 2) AS d,"
        " if(number = 1, NULL, 'v') AS maybe,"
        " arrayFilter(m -> 0, [map(toLowCardinality('k'), 'v')]) AS empty_maps, 7 AS last"
        " FROM numbers(3)"
    )
    assert [row[:3] for row in result.result_rows] == [(0, "0", "0"), (1, "1", "1"),
                                                        (2, "2", "2")]
    assert result.result_rows[2][3] == [{"k": [2]}]
    assert result.result_rows[1][6] is None
    assert result.result_rows[0][7:] == ([], 7)  # nothing is written for no LowCardinality rows
    client.close()


def test_form_encoded_queries(server: ServeProcess) -> None:
    """Bound parameters as a multipart form (clickhouse-connect's form encoding), and long
    URLs (up to ClickHouse's 1 MiB)."""
    client = clickhouse_connect.get_client(dsn=server.url, form_encode_query_params=True)
    result = client.query("SELECT length({s:String})", parameters={"s": "x" * 100_000})
    assert result.result_rows == [(100_000,)]
    assert client.command("SELECT length({s:String})", parameters={"s": "y" * 100_000}) == 100_000
    client.close()
