"""Schema versions: what the store records about its DDL, migration, drift and rebuild.

The store records each schema it was brought to in ``mltrace_schema`` (version, a digest of
the DDL text, the mltrace-otel release, when). Opening a store reads that one row: when it
matches this release no DDL runs; an older or unversioned store is migrated (missing tables
created, missing columns and skipping indexes added, materialized views recreated, project
tables whose column types changed rebuilt from ``otel_traces``); a newer one is refused with
the release to install. The expected layout is whatever ClickHouse makes of
``queries/schema/`` in a scratch database, so the comparison never drifts from the DDL itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from mltrace_otel._version import __version__
from mltrace_otel.store.errors import StoreError
from mltrace_otel.store.sql import schema_statements

SCHEMA_VERSION: Final = 2
"""Schema version of this release: 1 was the unversioned schema of mltrace-otel 0.1.0."""

CREATION_SETTINGS: Final = frozenset({"index_granularity"})
"""Table settings ClickHouse takes only in CREATE TABLE (``MODIFY SETTING`` refuses them)."""

VERSION_TABLE: Final = "mltrace_schema"
_SCRATCH_PREFIX: Final = "mltrace_expected_"

_VERSION_DDL: Final = f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    Version UInt32,
    Digest String,
    Release String,
    AppliedAt DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree
ORDER BY AppliedAt"""

_CREATE = re.compile(
    r"CREATE\s+(TABLE|MATERIALIZED\s+VIEW|VIEW)\s+IF\s+NOT\s+EXISTS\s+`?(\w+)`?"
    r"(?:\s+TO\s+`?(\w+)`?)?(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_AS = re.compile(r"\bAS\s+(.*)$", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"^\s*--[^\n]*\n", re.MULTILINE)
_SOURCE = re.compile(r"\bFROM\s+`?(\w+)`?", re.IGNORECASE)


class Store(Protocol):
    """What schema code needs of a store (``mltrace_otel.store.base.Store`` has it)."""

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """Rows of a query, as a ``Result``."""

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement."""


class SchemaTooNew(StoreError):
    """The store was written by a newer mltrace-otel."""


@dataclass(frozen=True)
class Statement:
    """One DDL statement of ``queries/schema/``."""

    name: str
    is_view: bool
    sql: str
    target: str | None = None
    select: str | None = None

    @property
    def source(self) -> str | None:
        """The table a materialized view reads."""
        found = _SOURCE.search(self.select or "")
        return found.group(1) if found else None


@dataclass(frozen=True)
class Table:
    """A table or view as ClickHouse describes it."""

    engine: str
    columns: tuple[tuple[str, str], ...]
    select: str
    indexes: tuple[tuple[str, str], ...] = ()
    """Skipping indexes: name and definition (``expr TYPE type GRANULARITY n``)."""
    settings: tuple[tuple[str, str], ...] = ()
    """Table-level settings (``SETTINGS name = value``), values as ClickHouse prints them."""
    defaults: tuple[tuple[str, str], ...] = ()
    """Columns computed by the table: name and clause (``MATERIALIZED expr``, ``DEFAULT
    expr``), as ClickHouse prints them."""


def statements() -> list[Statement]:
    """The DDL in file order, with what each statement creates."""
    found = []
    for sql in schema_statements():
        body = _COMMENT.sub("", sql).strip()
        match = _CREATE.match(body)
        if match is None:
            raise StoreError(f"queries/schema: cannot read the DDL statement {body[:60]!r}")
        kind, name, target, rest = match.groups()
        is_view = not kind.upper().startswith("TABLE")
        select = _AS.search(rest) if is_view else None
        found.append(Statement(name, is_view, sql, target, select.group(1) if select else None))
    return found


def digest() -> str:
    """A short digest of this release's DDL text."""
    return hashlib.sha256("\n;\n".join(schema_statements()).encode()).hexdigest()[:16]


def derived_tables() -> list[str]:
    """Tables filled only by materialized views (rebuildable from ``otel_traces``)."""
    return [statement.target for statement in statements() if statement.target]


# -- reading what a store holds ------------------------------------------------------------
Rows = Callable[[str, dict[str, Any]], list[list[Any]]]
"""Runs a query with bound parameters and returns its rows."""


def describe(rows: Rows, database: str | None = None) -> dict[str, Table]:
    """Tables and views of ``database`` (default: the current one)."""
    where = "database = {db:String}" if database else "database = currentDatabase()"
    params = {"db": database} if database else {}
    columns: dict[str, list[tuple[str, str]]] = {}
    defaults: dict[str, list[tuple[str, str]]] = {}
    for table, name, type_, kind, expression in rows(
        "SELECT table, name, type, default_kind, default_expression FROM system.columns "
        f"WHERE {where} ORDER BY table, position",
        params,
    ):
        columns.setdefault(table, []).append((name, type_))
        if kind:
            defaults.setdefault(table, []).append((name, f"{kind} {expression}"))
    indexes: dict[str, list[tuple[str, str]]] = {}
    for table, name, expr, type_, granularity in rows(
        "SELECT table, name, expr, type_full, granularity FROM system.data_skipping_indices "
        f"WHERE {where} ORDER BY table, name",
        params,
    ):
        definition = f"{expr} TYPE {type_} GRANULARITY {granularity}"
        indexes.setdefault(table, []).append((name, definition))
    tables = {}
    for name, engine, select, db, engine_full in rows(
        f"SELECT name, engine, as_select, database, engine_full FROM system.tables WHERE {where}",
        params,
    ):
        tables[name] = Table(
            engine, tuple(columns.get(name, ())), _unqualified(select, db),
            tuple(indexes.get(name, ())), _settings(engine_full), tuple(defaults.get(name, ())),
        )
    return tables


_SETTINGS = re.compile(r"\bSETTINGS\s+(.*)$", re.DOTALL)
_SETTING = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|[^,]+)")


def _settings(engine_full: str) -> tuple[tuple[str, str], ...]:
    """The ``SETTINGS`` of a table's full engine clause."""
    found = _SETTINGS.search(engine_full or "")
    if found is None:
        return ()
    return tuple((name, value.strip()) for name, value in _SETTING.findall(found.group(1)))


def _unqualified(select: str, database: str) -> str:
    return re.sub(rf"`?\b{re.escape(database)}`?\.", "", select or "")


def scratch_layout(execute: Callable[[str], None], rows: Rows) -> dict[str, Table]:
    """The layout this release's DDL creates, built in a scratch database of a chDB session
    (``USE`` switches a session's current database) and dropped again."""
    import uuid

    database = f"{_SCRATCH_PREFIX}{uuid.uuid4().hex[:12]}"
    current = rows("SELECT currentDatabase()", {})[0][0]
    for (leftover,) in rows(  # left by a process killed while comparing
        "SELECT name FROM system.databases WHERE startsWith(name, {prefix:String})",
        {"prefix": _SCRATCH_PREFIX},
    ):
        execute(f"DROP DATABASE IF EXISTS `{leftover}` SYNC")
    execute(f"CREATE DATABASE {database}")
    try:
        execute(f"USE {database}")
        for statement in statements():
            execute(statement.sql)
        execute(_VERSION_DDL)
        return describe(rows, database)
    finally:
        execute(f"USE `{current}`")
        execute(f"DROP DATABASE IF EXISTS {database} SYNC")


def standalone_layout() -> dict[str, Table]:
    """The layout this release's DDL creates, from a temporary chDB (for server stores)."""
    import tempfile

    from chdb import session

    with tempfile.TemporaryDirectory(prefix="mltrace-schema-") as folder:
        chdb = session.Session(folder)
        try:
            def execute(sql: str) -> None:
                chdb.query(sql, "TSV")

            def rows(sql: str, params: dict[str, Any]) -> list[list[Any]]:
                text = chdb.query(sql, "TabSeparatedRaw", params=params).bytes().decode()
                return [line.split("\t") for line in text.splitlines()]

            return scratch_layout(execute, rows)
        finally:
            chdb.close()


# -- versions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    """The latest schema row of a store."""

    version: int
    digest: str
    release: str


def recorded(store: Store, tables: set[str]) -> Recorded | None:
    """What the store says about its schema; None for a store without a version table."""
    if VERSION_TABLE not in tables:
        return None
    result = store.query(
        f"SELECT Version, Digest, Release FROM {VERSION_TABLE} ORDER BY AppliedAt DESC LIMIT 1"
    )
    if not result.rows:
        return None
    version, digest_, release = result.rows[0]
    return Recorded(int(version), str(digest_), str(release))


def table_names(store: Store) -> set[str]:
    """Names of the tables and views in the store's current database."""
    result = store.query("SELECT name FROM system.tables WHERE database = currentDatabase()")
    return {str(row[0]) for row in result.rows}


def refuse_newer(found: Recorded, where: str) -> None:
    """Raise the one-line message for a store written by a newer release."""
    if found.version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the store {where} has schema version {found.version}, written by mltrace-otel "
            f"{found.release}; this mltrace-otel {__version__} reads schema version "
            f"{SCHEMA_VERSION}: install mltrace-otel>={found.release}"
        )


def ensure(store: Store, where: str, expected: Callable[[], dict[str, Table]]) -> bool:
    """Bring the store to this release's schema; True when any DDL ran.

    One or two queries when the store is current; ``expected`` is called only to migrate.
    """
    tables = table_names(store)
    found = recorded(store, tables)
    if found is not None:
        refuse_newer(found, where)
        if found.version == SCHEMA_VERSION and found.digest == digest():
            return False
    if not tables & {statement.name for statement in statements()}:
        for statement in statements():
            store.command(statement.sql)
    else:
        migrate(store, expected())
    record(store)
    return True


def record(store: Store) -> None:
    """Write this release's schema row."""
    store.command(_VERSION_DDL)
    store.command(
        f"INSERT INTO {VERSION_TABLE} (Version, Digest, Release) "
        "VALUES ({version:UInt32}, {digest:String}, {release:String})",
        {"version": SCHEMA_VERSION, "digest": digest(), "release": __version__},
    )


def migrate(store: Store, expected: dict[str, Table]) -> None:
    """Create what is missing, add missing columns, recreate views, rebuild changed tables."""
    actual = describe(_rows_of(store))
    rebuild: list[str] = []
    derived = set(derived_tables())
    for statement in statements():
        if statement.is_view:
            continue
        have = actual.get(statement.name)
        if have is None:
            store.command(statement.sql)
            continue
        types = dict(have.columns)
        computed = dict(expected[statement.name].defaults)
        for column, type_ in expected[statement.name].columns:
            if column not in types:
                clause = computed.get(column, "")
                store.command(f"ALTER TABLE {statement.name} ADD COLUMN IF NOT EXISTS "
                              f"`{column}` {type_} {clause}")
                if clause.startswith("MATERIALIZED"):  # computed when read until stored
                    store.command(f"ALTER TABLE {statement.name} MATERIALIZE COLUMN `{column}`")
            elif types[column] != type_:
                if statement.name not in derived:
                    raise StoreError(
                        f"column {statement.name}.{column} is {types[column]}, this release "
                        f"expects {type_}: migrate it by hand (ALTER TABLE ... MODIFY COLUMN)"
                    )
                rebuild.append(statement.name)
        for index, definition in _missing_indexes(have, expected[statement.name]):
            store.command(f"ALTER TABLE {statement.name} ADD INDEX IF NOT EXISTS "
                          f"{index} {definition}")
            store.command(f"ALTER TABLE {statement.name} MATERIALIZE INDEX {index}")
        for setting, value in _changed_settings(have, expected[statement.name]):
            if setting not in CREATION_SETTINGS:
                store.command(f"ALTER TABLE {statement.name} MODIFY SETTING {setting} = {value}")
            elif statement.name in derived:
                rebuild.append(statement.name)
            else:
                raise StoreError(
                    f"table {statement.name} was created with {setting} = "
                    f"{dict(have.settings).get(setting, 'its default')} and this release "
                    f"expects {value}, which ClickHouse sets only when a table is created: "
                    "copy it into a new table by hand"
                )
    if rebuild:
        rebuild_derived(store)
        return
    for statement in statements():
        if statement.is_view:
            store.command(f"DROP VIEW IF EXISTS {statement.name}")
            store.command(statement.sql)


def rebuild_derived(store: Store) -> int:
    """Drop and recreate every table the views fill, then refill them from ``otel_traces``.

    Tables that are not derived (flags, notes) are created if missing, never emptied.
    Returns the number of ``otel_traces`` rows read.
    """
    derived = set(derived_tables())
    for statement in statements():
        if statement.is_view:
            store.command(f"DROP VIEW IF EXISTS {statement.name}")
    for statement in statements():
        if not statement.is_view:
            if statement.name in derived:  # SYNC: an Atomic database frees a dropped table's
                # parts only 8 minutes later, in a process still running then
                store.command(f"DROP TABLE IF EXISTS {statement.name} SYNC")
            store.command(statement.sql)
    for statement in statements():
        if statement.is_view:
            store.command(statement.sql)
    rows = store.query("SELECT count() FROM otel_traces").rows[0][0]
    for statement in statements():
        if statement.is_view and statement.source == "otel_traces" and statement.select:
            names = [name for name, _ in describe_one(store, statement.name).columns]
            listed = ", ".join(f"`{name}`" for name in names)
            store.command(f"INSERT INTO {statement.target} ({listed}) {statement.select}")
    return int(rows)


def describe_one(store: Store, name: str) -> Table:
    """One table or view of the store's current database."""
    tables = describe(_rows_of(store))
    if name not in tables:
        raise StoreError(f"table {name} is missing")
    return tables[name]


def drift(store: Store, expected: dict[str, Table]) -> list[str]:
    """Differences between the store and this release's schema, one line each."""
    actual = describe(_rows_of(store))
    problems = []
    for statement in statements():
        want = expected[statement.name]
        have = actual.get(statement.name)
        kind = "view" if statement.is_view else "table"
        if have is None:
            problems.append(f"{kind} {statement.name} is missing")
            continue
        if statement.is_view:
            if _normal(have.select) != _normal(want.select):
                problems.append(f"view {statement.name} selects differently than this release")
            continue
        types = dict(have.columns)
        for column, type_ in want.columns:
            if column not in types:
                problems.append(f"column {statement.name}.{column} ({type_}) is missing")
            elif types[column] != type_:
                problems.append(
                    f"column {statement.name}.{column} is {types[column]}, expected {type_}"
                )
        for index, definition in _missing_indexes(have, want):
            problems.append(f"index {statement.name}.{index} ({definition}) is missing")
        found_settings = dict(have.settings)
        for setting, value in _changed_settings(have, want):
            problems.append(f"setting {statement.name}.{setting} is "
                            f"{found_settings.get(setting, 'the default')}, expected {value}")
    found = recorded(store, set(actual))
    if found is None:
        problems.append(f"table {VERSION_TABLE} is missing or empty (no schema version)")
    elif found.version != SCHEMA_VERSION:
        problems.append(f"schema version {found.version}, this release has {SCHEMA_VERSION}")
    return problems


def _missing_indexes(have: Table, want: Table) -> list[tuple[str, str]]:
    """Skipping indexes of ``want`` that ``have`` has no index of that name for."""
    names = {name for name, _ in have.indexes}
    return [index for index in want.indexes if index[0] not in names]


def _changed_settings(have: Table, want: Table) -> list[tuple[str, str]]:
    """Settings of ``want`` that ``have`` lacks or has another value of."""
    found = dict(have.settings)
    return [(name, value) for name, value in want.settings if found.get(name) != value]


def _normal(select: str) -> str:
    return re.sub(r"\s+", " ", select).strip()


def _rows_of(store: Store) -> Rows:
    def rows(sql: str, params: dict[str, Any]) -> list[list[Any]]:
        return [[str(value) for value in row] for row in store.query(sql, params).rows]

    return rows


def refuse_newer_store(store: Store, where: str) -> None:
    """Raise when the store was written by a newer release (before rewriting its tables)."""
    found = recorded(store, table_names(store))
    if found is not None:
        refuse_newer(found, where)
