"""IO pointers: names of the data, models and endpoints a run reads and writes."""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mltrace_otel.sdk.once import OncePerKey


class PointerType(str, enum.Enum):
    """What a pointer refers to, inferred from its name."""

    DATA = "DATA"
    MODEL = "MODEL"
    ENDPOINT = "ENDPOINT"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


_MODEL_SUFFIXES = (
    ".pkl", ".pickle", ".joblib", ".onnx", ".pt", ".pth", ".ckpt", ".h5", ".keras",
    ".pb", ".sav", ".safetensors", ".mlmodel", ".model",
)
_DATA_SUFFIXES = (
    ".csv", ".tsv", ".parquet", ".json", ".jsonl", ".txt", ".feather", ".arrow", ".avro",
    ".orc", ".npy", ".npz", ".xlsx", ".xls", ".hdf5", ".db", ".sqlite", ".tfrecord",
)
logger = logging.getLogger("mltrace_otel")

_unpicklable = OncePerKey()
"""Values that cannot be pickled: one warning per variable (or pointer) and type."""

_URL_SCHEMES = ("http://", "https://", "grpc://")


def type_name(name: str) -> str:
    """The pointer type inferred from a name, as a string: file suffix first, then URL,
    then keywords (the hot path of large pointer sets: C-level string tests only)."""
    lowered = name.lower()
    if lowered.endswith(_MODEL_SUFFIXES):
        return "MODEL"
    if lowered.endswith(_DATA_SUFFIXES):
        return "DATA"
    if lowered.startswith(_URL_SCHEMES) or "endpoint" in lowered:
        return "ENDPOINT"
    if "model" in lowered:
        return "MODEL"
    if "data" in lowered:
        return "DATA"
    return "UNKNOWN"


@functools.lru_cache(maxsize=4096)
def cached_type_name(name: str) -> str:
    """``type_name``, remembered for the 4,096 names used last: the names a pipeline repeats.
    A batch job naming new files each run misses (~1 µs) rather than keeping every name it
    ever wrote (65,536 held ~13 MiB)."""
    return type_name(name)


_POINTER_TYPES = {kind.value: kind for kind in PointerType}


def infer_pointer_type(name: str) -> PointerType:
    """Infer the pointer type from a name: file suffix first, then URL, then keywords."""
    return _POINTER_TYPES[cached_type_name(name)]


class IOPointer:
    """A named input or output of a component run.

    ``value`` is optional: when given, the pointer's ``version`` is its content hash, so
    runs that read and write the same name match only when the content matches too.
    """

    __slots__ = ("name", "pointer_type", "value", "version")

    def __init__(
        self,
        name: str,
        value: Any = None,
        pointer_type: PointerType | str | None = None,
        version: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a pointer name must be a non-empty string, got {name!r}")
        self.name = name
        self.value = value
        self.pointer_type = (
            PointerType(pointer_type) if pointer_type else infer_pointer_type(name)
        )
        self.version = version or (_version_of(name, value) if value is not None else "")

    def __repr__(self) -> str:
        version = f", version={self.version!r}" if self.version else ""
        return f"IOPointer({self.name!r}, type={self.pointer_type.value}{version})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, IOPointer)
            and (self.name, self.version) == (other.name, other.version)
        )

    def __hash__(self) -> int:
        return hash((self.name, self.version))


def _version_of(name: str, value: Any) -> str:
    try:
        return content_hash(value)
    except Exception as error:  # unpicklable: the pointer is kept without a content version
        _unpicklable.warn(
            (name, type(value)),
            "mltrace: pointer %r logged without a content version: %s cannot be pickled (%s; "
            "not reported again for this pointer and type)", name, type(value).__name__, error,
        )
        return ""


def content_hash(value: Any) -> str:
    """SHA-256 (hex) of a value's bytes, or of its pickle when it is not bytes."""
    data = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else None
    if data is None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(data).hexdigest()


def save_object(obj: Any, save_dir: Path, path: str | None = None) -> IOPointer:
    """Pickle ``obj`` (to ``path``, or content-addressed under ``save_dir``) and point at it."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(data).hexdigest()
    target = Path(path) if path else save_dir / f"{digest[:32]}.pkl"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (path is None and target.exists()):
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(target)
    return IOPointer(str(target), pointer_type=infer_pointer_type(str(target)), version=digest)


def load_object(path: str) -> tuple[Any, IOPointer]:
    """Unpickle the object at ``path`` and return it with a pointer carrying its hash."""
    data = Path(path).read_bytes()
    pointer = IOPointer(path, version=hashlib.sha256(data).hexdigest())
    return pickle.loads(data), pointer


def pointers_from_value(value: Any, save_dir: Path, variable: str = "") -> list[IOPointer]:
    """Pointers for a logged variable's value (SPEC 3.2).

    A ``str`` is a pointer name; a list/tuple of ``str`` is several; an ``IOPointer`` is
    itself; ``None`` and empty names are skipped; anything else is saved under ``save_dir``
    and logged by content hash, or, when it cannot be pickled, logged without content as
    ``object:<type>@<pid>:<id>`` (one warning), which matches the same object in this process.
    """
    if value is None:
        return []
    if isinstance(value, IOPointer):
        return [value]
    if isinstance(value, str):
        return [IOPointer(value)] if value else _skipped_empty(variable)
    if isinstance(value, (list, tuple)) and all(
        isinstance(item, (str, IOPointer)) for item in value
    ):
        if any(item == "" for item in value):
            _skipped_empty(variable)
        return [
            item if isinstance(item, IOPointer) else IOPointer(item)
            for item in value
            if item != ""
        ]
    try:
        return [save_object(value, save_dir)]
    except Exception as error:  # unpicklable or unwritable: keep the run, drop the content
        kind = type(value)
        name = f"object:{kind.__module__}.{kind.__qualname__}@{os.getpid()}:{id(value):x}"
        _unpicklable.warn(
            (variable, kind),
            "mltrace: %s (%s) logged as pointer %r without content: %s (not reported again "
            "for this variable and type)", variable or "a value", kind.__qualname__, name, error,
        )
        return [IOPointer(name)]


def _skipped_empty(variable: str) -> list[IOPointer]:
    logger.warning("mltrace: %s is an empty pointer name; not logged", variable or "a value")
    return []


def unique(pointers: Iterable[IOPointer]) -> list[IOPointer]:
    """Pointers in first-seen order with duplicates (same name and version) collapsed."""
    return list(dict.fromkeys(pointers))
