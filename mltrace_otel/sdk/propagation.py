"""Trace context in environment variables (the OpenTelemetry environment-carrier convention):
``TRACEPARENT``/``TRACESTATE`` hold the W3C ``traceparent``/``tracestate`` values, so a child
process continues its parent's trace."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

ENV_TRACEPARENT = "TRACEPARENT"
ENV_TRACESTATE = "TRACESTATE"

_propagator = TraceContextTextMapPropagator()


class _EnvironmentGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.upper())
        return [value] if value else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return [key.lower() for key in carrier]


class _EnvironmentSetter(Setter[MutableMapping[str, str]]):
    def set(self, carrier: MutableMapping[str, str], key: str, value: str) -> None:
        carrier[key.upper()] = value


_cache: dict[tuple[str, str], Context] = {}


def environment_context(environ: Mapping[str, str] = os.environ) -> Context | None:
    """The parent context in ``TRACEPARENT``/``TRACESTATE``, or None when there is none."""
    traceparent = environ.get(ENV_TRACEPARENT)
    if not traceparent:
        return None
    key = (traceparent, environ.get(ENV_TRACESTATE, ""))
    context = _cache.get(key)
    if context is None:
        extracted = _propagator.extract(
            {ENV_TRACEPARENT: key[0], ENV_TRACESTATE: key[1]}, Context(), _EnvironmentGetter()
        )
        valid = trace.get_current_span(extracted).get_span_context().is_valid
        context = _cache[key] = extracted if valid else Context()
    return context if len(context) else None


def environment_carrier(context: Context | None = None) -> dict[str, str]:
    """``TRACEPARENT`` (and ``TRACESTATE`` if any) for ``context`` (default: the current)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context, _EnvironmentSetter())
    return carrier
