"""``mltrace.pipeline(name)``: one pipeline execution is one trace.

The pipeline is a root span (or a child of the active span, or of ``TRACEPARENT``); while it
is open, component runs in this process are its children, and ``TRACEPARENT``/``TRACESTATE``
in ``os.environ`` name it, so child processes (``subprocess``, spawned workers, shell
commands) continue the same trace. The variables are restored when it closes.
"""

from __future__ import annotations

import contextlib
import logging
import os
from types import TracebackType
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from mltrace_otel import semconv, state
from mltrace_otel.sdk.propagation import ENV_TRACEPARENT, ENV_TRACESTATE, environment_carrier

logger = logging.getLogger("mltrace_otel")


class Pipeline(contextlib.ContextDecorator):
    """A pipeline root span, as a context manager or a decorator (each call is one trace)."""

    def __init__(self, name: str, attributes: dict[str, Any] | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a pipeline needs a non-empty name")
        self.name = name
        self._attributes = dict(attributes or {})
        self._span: trace.Span | None = None
        self._span_context = trace.INVALID_SPAN_CONTEXT
        self._token: object = None
        self._saved: dict[str, str | None] = {}
        self._failure = ""

    def _recreate_cm(self) -> Pipeline:  # a decorated function opens a new pipeline per call
        return Pipeline(self.name, self._attributes)

    @property
    def trace_id(self) -> str:
        """The pipeline's trace id in hex ('' when tracing could not start)."""
        if not self._span_context.is_valid:
            return ""
        return trace.format_trace_id(self._span_context.trace_id)

    def set_attribute(self, key: str, value: Any) -> None:
        """Record an attribute on the pipeline span."""
        if self._span is not None:
            self._span.set_attribute(key, value)

    def fail(self, message: str) -> None:
        """End the pipeline span with status ERROR and ``message`` (e.g. a failed command)."""
        self._failure = message

    def __enter__(self) -> Pipeline:
        try:
            span = state.tracing().tracer.start_span(
                self.name, attributes={semconv.PIPELINE_NAME: self.name, **self._attributes}
            )
            self._token = context_api.attach(trace.set_span_in_context(span))
            self._span, self._span_context = span, span.get_span_context()
            self._saved = {key: os.environ.get(key) for key in (ENV_TRACEPARENT, ENV_TRACESTATE)}
            os.environ.pop(ENV_TRACESTATE, None)
            os.environ.update(environment_carrier())
        except Exception as error:  # tracing must never break the pipeline
            logger.warning("mltrace: could not start pipeline %s: %s", self.name, error)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span, self._span = self._span, None
        if span is None:
            return
        try:
            for key, value in self._saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            context_api.detach(self._token)  # type: ignore[arg-type]
            if error is not None and not _clean_exit(error):
                span.record_exception(error, escaped=True)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            elif self._failure:
                span.set_status(Status(StatusCode.ERROR, self._failure))
            else:
                span.set_status(Status(StatusCode.OK))
            span.end()
        except Exception as problem:  # tracing must never break the pipeline
            logger.warning("mltrace: could not end pipeline %s: %s", self.name, problem)


def _clean_exit(error: BaseException) -> bool:
    return isinstance(error, SystemExit) and error.code in (None, 0)


def pipeline(name: str) -> Pipeline:
    """Open a pipeline root span: ``with mltrace.pipeline("churn-daily"):`` or
    ``@mltrace.pipeline("churn-daily")``. Component runs inside, and in child processes
    started inside, belong to its trace."""
    return Pipeline(name)
