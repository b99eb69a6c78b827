"""The stores a query test runs on (imported by conftest.py): the embedded store, the
``clickhouse`` backend through a real ``mltrace serve``, and a real ClickHouse server when
``MLTRACE_TEST_CLICKHOUSE_URL`` is set (e.g. ``http://default:@127.0.0.1:8123``).

A module opts in with ``pytestmark = pytest.mark.usefixtures("store_backend")``; each of its
tests then runs once per store, the server ones in a fresh database of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from _serve import ServeProcess, start_serve

import mltrace_otel as mltrace

ENV_TEST_CLICKHOUSE_URL = "MLTRACE_TEST_CLICKHOUSE_URL"
STORES = ["embedded", "serve"] + (["clickhouse"] if os.environ.get(ENV_TEST_CLICKHOUSE_URL)
                                  else [])


@pytest.fixture(scope="session")
def serve_for_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One ``mltrace serve`` for the session's server-store tests (a database per test)."""
    server = start_serve(tmp_path_factory.mktemp("serve_store"), otlp=False)
    yield server
    code, err = server.stop()
    assert code == 0, err


@pytest.fixture(params=STORES)
def store_backend(request: pytest.FixtureRequest, home: Path) -> Iterator[str]:
    """The test's store: ``home``'s embedded store, or a fresh database on a server with this
    process configured for the ``clickhouse`` backend (logging and queries over the wire)."""
    if request.param == "embedded":
        yield request.param
        return
    if request.param == "serve":
        base = request.getfixturevalue("serve_for_tests").url
    else:
        base = os.environ[ENV_TEST_CLICKHOUSE_URL]
    database = f"mltrace_test_{uuid.uuid4().hex[:12]}"
    admin = clickhouse_connect.get_client(dsn=base)
    admin.command(f"CREATE DATABASE {database}")
    try:
        mltrace.configure(backend="clickhouse", home=home, url=f"{base.rstrip('/')}/{database}")
        mltrace.init_db()
        yield request.param
    finally:
        mltrace.configure(backend="local", home=home)
        admin.command(f"DROP DATABASE IF EXISTS {database}")
        admin.close()
