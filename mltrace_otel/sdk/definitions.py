"""Component definitions and tags, logged as zero-length definition spans.

A pipeline process never writes to the store directly, so declaring or tagging a component
travels the same way runs do: one span through the configured export path.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from mltrace_otel import semconv, state


def _emit_definition(name: str, attributes: dict[str, Any]) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError("a component needs a non-empty name")
    now = time.time_ns()
    span = state.tracing().tracer.start_span(
        name,
        start_time=now,
        attributes={
            semconv.COMPONENT_NAME: name,
            semconv.COMPONENT_DEFINITION: True,
            **{key: value for key, value in attributes.items() if value},
        },
    )
    span.end(end_time=now)


def create_component(
    name: str, description: str = "", owner: str = "", tags: Sequence[str] | None = None
) -> None:
    """Declare a component with its description, owner and tags."""
    _emit_definition(
        name,
        {
            semconv.COMPONENT_DESCRIPTION: description,
            semconv.COMPONENT_OWNER: owner,
            semconv.COMPONENT_TAGS: [str(tag) for tag in tags or []],
        },
    )


def tag_component(component_name: str, tags: Sequence[str]) -> None:
    """Add tags to a component (existing tags are kept)."""
    if isinstance(tags, str):
        tags = [tags]
    _emit_definition(component_name, {semconv.COMPONENT_TAGS: [str(tag) for tag in tags]})
