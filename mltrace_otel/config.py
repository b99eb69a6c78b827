"""Configuration: explicit argument, then environment variable, then default."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path
from typing import Final, TypeVar

from mltrace_otel.secrets import redact

ENV_BACKEND: Final = "MLTRACE_BACKEND"
"""Backend: ``local`` (default), ``clickhouse`` or ``otlp``."""

ENV_HOME: Final = "MLTRACE_HOME"
"""Directory of the embedded store and its spool. Default ``~/.mltrace``."""

ENV_SAVE_DIR: Final = "SAVE_DIR"
"""Where values that are not pointer names are saved. Default ``$MLTRACE_HOME/objects``."""

ENV_CLICKHOUSE_URL: Final = "MLTRACE_CLICKHOUSE_URL"
"""ClickHouse server URL, e.g. ``http://user:pass@host:8123/db``."""

ENV_SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
"""Standard OpenTelemetry service name."""

BACKENDS: Final = ("local", "clickhouse", "otlp")
DEFAULT_SERVICE_NAME: Final = "mltrace"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Resolved configuration of the SDK and the query layer."""

    backend: str
    home: Path
    url: str | None
    service_name: str

    def __repr__(self) -> str:
        return redact(
            f"Settings(backend={self.backend!r}, home={self.home!r}, url={self.url!r}, "
            f"service_name={self.service_name!r})"
        )

    @property
    def spool_dir(self) -> Path:
        return self.home / "spool"

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def save_dir(self) -> Path:
        """``$SAVE_DIR``, else ``home/objects``; read from the environment on every access,
        the ``Path`` built once per distinct value."""
        return _save_dir(os.environ.get(ENV_SAVE_DIR) or "", self.home)


@functools.lru_cache(maxsize=16)
def _save_dir(from_environment: str, home: Path) -> Path:
    return Path(from_environment) if from_environment else home / "objects"


class ConfigurationError(ValueError):
    """A configuration value is invalid; the message says which and what to do."""


def resolve(
    backend: str | None = None,
    home: str | os.PathLike[str] | None = None,
    url: str | None = None,
    service_name: str | None = None,
    *,
    strict: bool = True,
) -> Settings:
    """Resolve settings from arguments, then the environment, then defaults.

    An unknown backend is a ConfigurationError, unless ``strict`` is off: then the settings
    keep the name, for the tracing side to keep runs in the outbox."""
    chosen = (backend or os.environ.get(ENV_BACKEND) or "local").lower()
    if chosen not in BACKENDS and strict:
        raise unknown_backend_error(chosen)
    home_path = Path(home or os.environ.get(ENV_HOME) or Path.home() / ".mltrace")
    return Settings(
        backend=chosen,
        home=home_path.expanduser().absolute(),
        url=url or os.environ.get(ENV_CLICKHOUSE_URL),
        service_name=service_name or os.environ.get(ENV_SERVICE_NAME) or DEFAULT_SERVICE_NAME,
    )


def unknown_backend_error(name: str) -> ConfigurationError:
    """The error of a backend name mltrace does not know."""
    return ConfigurationError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


_Number = TypeVar("_Number", int, float)
_warned_numbers: set[tuple[str, str]] = set()


def number_env(name: str, default: _Number) -> _Number:
    """The positive number in the environment variable ``name`` (of ``default``'s type), or
    ``default`` when it is unset, or (with one warning per value) not such a number."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        value = 0
    if value > 0:
        return value
    if (name, raw) not in _warned_numbers:
        _warned_numbers.add((name, raw))
        logging.getLogger("mltrace_otel").warning(
            "mltrace: %s=%r is not a positive %s; using %s", name, raw,
            "integer" if isinstance(default, int) else "number", default,
        )
    return default
