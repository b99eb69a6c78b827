"""Plain objects returned by queries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from mltrace_otel import semconv


@dataclass(frozen=True)
class Pointer:
    """A pointer as stored: its name, type and (content hash or) version."""

    name: str
    pointer_type: str
    version: str = ""


@dataclass
class Run:
    """One component run, as the store knows it.

    ``stale`` and ``notes`` (which include notes added after logging) are loaded on first
    access, for every run of the same query result at once (one store query each), so
    callers that never read them never pay for them.
    """

    id: str
    component_name: str
    start_timestamp: datetime
    end_timestamp: datetime
    trace_id: str
    status: str
    status_message: str = ""
    service_name: str = ""
    input_pointers: list[Pointer] = field(default_factory=list)
    output_pointers: list[Pointer] = field(default_factory=list)
    git_hash: str = ""
    git_tags: list[str] = field(default_factory=list)
    code_snapshot: str = ""
    staleness_threshold: int = semconv.DEFAULT_STALENESS_THRESHOLD
    """Seconds (SPEC 3.4); runs logged without one get the default, 30 days."""
    dependencies: list[str] = field(default_factory=list)
    test_results: list[dict[str, Any]] = field(default_factory=list)
    trigger_results: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict, repr=False)
    _notes: str = field(default="", repr=False)
    _stale: list[str] = field(default_factory=list, repr=False)
    _load_details: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def _details(self) -> Run:
        if self._load_details is not None:
            self._load_details()
        return self

    @property
    def notes(self) -> str:
        """Notes logged with the run, then every note added later, one per line."""
        return self._details()._notes

    @notes.setter
    def notes(self, value: str) -> None:
        self._notes = value

    @property
    def stale(self) -> list[str]:
        """Staleness messages (SPEC 3.4), computed when first read."""
        return self._details()._stale

    @stale.setter
    def stale(self, value: list[str]) -> None:
        self._stale = value

    @property
    def inputs(self) -> list[str]:
        """Names of the pointers the run read."""
        return [pointer.name for pointer in self.input_pointers]

    @property
    def outputs(self) -> list[str]:
        """Names of the pointers the run wrote."""
        return [pointer.name for pointer in self.output_pointers]

    @property
    def duration(self) -> float:
        """Seconds between start and end."""
        return (self.end_timestamp - self.start_timestamp).total_seconds()

    @property
    def owner(self) -> str:
        return self.attributes.get(semconv.COMPONENT_OWNER, "")

    def to_dictionary(self) -> dict[str, Any]:
        """mltrace's dictionary form of a run (timestamps as datetimes, pointers as names)."""
        names = ("id", "component_name", "start_timestamp", "end_timestamp", "inputs",
                 "outputs", "git_hash", "git_tags", "code_snapshot", "dependencies", "notes",
                 "stale")
        return {name: getattr(self, name) for name in names}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps as ISO 8601 strings)."""
        data = {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if not item.name.startswith("_") and item.name != "attributes"
        }
        data["input_pointers"] = [asdict(pointer) for pointer in self.input_pointers]
        data["output_pointers"] = [asdict(pointer) for pointer in self.output_pointers]
        data["notes"] = self.notes
        data["stale"] = list(self.stale)
        data["inputs"] = self.inputs
        data["outputs"] = self.outputs
        data["start_timestamp"] = self.start_timestamp.isoformat()
        data["end_timestamp"] = self.end_timestamp.isoformat()
        return data


@dataclass(frozen=True)
class ComponentInfo:
    """A component's name, description, owner and tags."""

    name: str
    description: str = ""
    owner: str = ""
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STATUS = {"Ok": "OK", "Error": "ERROR"}


def timestamp(ns: int) -> datetime:
    """A UTC datetime from Unix nanoseconds (truncated to microseconds, as ClickHouse's
    DateTime64(9) text is)."""
    return _EPOCH + timedelta(0, 0, ns // 1000)  # positional: a third faster than by keyword


def spec_argument(value: Any, mltrace_value: Any, names: tuple[str, str]) -> Any:
    """The argument given under SPEC's name or mltrace's (``names``: SPEC's, then mltrace's),
    exactly one of them."""
    if (value is None) == (mltrace_value is None):
        raise TypeError(f"give {names[0]} (or mltrace's {names[1]}=), once")
    return mltrace_value if value is None else value


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of ``moment`` (naive: UTC), exactly: a Run's timestamps
    are microsecond-precise."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def runs_from_records(records: Iterable[Sequence[Any]]) -> list[Run]:
    """Runs from [span id, record fields] pairs (``mltrace_otel.store.records.read``)."""
    runs = []
    shared: dict[tuple[str, str, str], Pointer] = {}  # Pointer is frozen: one per distinct
    for span_id, record in records:
        (trace_id, component, service, status, message, inputs, input_versions, input_types,
         outputs, output_versions, output_types, attributes, event_names, event_attributes,
         start_ns, end_ns, _) = record  # in the order of records.FIELDS
        get = attributes.get
        runs.append(Run(  # positionally, in field order (the hot path of large results)
            span_id,
            component,
            timestamp(int(start_ns)),
            timestamp(int(end_ns)),
            trace_id,
            _STATUS.get(status, "UNSET"),
            message,
            service,
            _pointers(inputs, input_types, input_versions, shared),
            _pointers(outputs, output_types, output_versions, shared),
            get(semconv.VCS_REF_HEAD_REVISION, ""),
            _string_array(get(semconv.RUN_GIT_TAGS, "")),
            get(semconv.RUN_CODE_SNAPSHOT, ""),
            _threshold(get(semconv.RUN_STALENESS_THRESHOLD, "")),
            [],  # dependencies: with_dependencies() fills them
            _event_results(event_names, event_attributes, semconv.EVENT_TEST),
            _event_results(event_names, event_attributes, semconv.EVENT_TRIGGER),
            attributes,
            get(semconv.RUN_NOTES, ""),
        ))
    return runs


def _pointers(
    names: list[str], types: list[str], versions: list[str],
    shared: dict[tuple[str, str, str], Pointer],
) -> list[Pointer]:
    """The pointers of one run; a pointer other runs of the result share (one run's output,
    its readers' input) is built once."""
    pointers = []
    for key in zip(names, types, versions):
        pointer = shared.get(key)
        if pointer is None:
            pointer = shared[key] = Pointer(*key)
        pointers.append(pointer)
    return pointers


def _threshold(text: str) -> int:
    """A run's staleness threshold in seconds: 0 is one, unset (another SDK's span) or
    unreadable means the default."""
    try:
        return int(text)
    except ValueError:
        return semconv.DEFAULT_STALENESS_THRESHOLD


def _seconds(text: str) -> float:
    """A test's duration in seconds; unreadable (another SDK's ``"12ms"``) means 0: one run's
    bad value never fails a query that reads it."""
    try:
        return float(text or 0.0)
    except ValueError:
        return 0.0


def _string_array(text: str) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _event_results(
    names: list[str], attributes_of: list[dict[str, str]], event_name: str
) -> list[dict[str, Any]]:
    if not names:
        return []
    results = []
    for name, attributes in zip(names, attributes_of):
        if name != event_name:
            continue
        results.append(
            {
                "name": attributes.get(semconv.TEST_NAME, ""),
                "phase": attributes.get(semconv.TEST_PHASE, ""),
                "passed": attributes.get(semconv.TEST_PASSED) == "true",
                "duration": _seconds(attributes.get(semconv.TEST_DURATION, "")),
                "error": attributes.get(semconv.TEST_ERROR, ""),
            }
        )
    return results
