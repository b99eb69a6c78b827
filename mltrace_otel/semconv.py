"""Semantic conventions: every span, attribute, event and link name mltrace-otel uses.

This is the only module that spells these names. The SDK, the SQL templates in
``queries/`` (through :func:`sql_names`) and ``docs/conventions.md`` all follow it, so a
pipeline in any language can emit compatible spans.

Reused OpenTelemetry names come first; names for concepts OpenTelemetry does not have
(components, pointers, data tests) live under the ``mltrace.`` namespace.
"""

from __future__ import annotations

from typing import Final

SCOPE_NAME: Final = "mltrace_otel"
"""Instrumentation scope name of the spans the Python SDK emits."""

# --- Reused OpenTelemetry conventions -------------------------------------------------

VCS_REF_HEAD_REVISION: Final = "vcs.ref.head.revision"
"""Git commit hash of the code that ran (OpenTelemetry VCS convention)."""

CODE_FUNCTION_NAME: Final = "code.function.name"
"""Fully qualified name of the decorated function (OpenTelemetry code convention)."""

CODE_FILE_PATH: Final = "code.file.path"
"""Source file of the decorated function (OpenTelemetry code convention)."""

# --- Components ---------------------------------------------------------------------------

COMPONENT_NAME: Final = "mltrace.component.name"
"""Component name. Required: a span carrying it is a component run (the span name is the same)."""

COMPONENT_OWNER: Final = "mltrace.component.owner"
"""Owner of the component (a person or team)."""

COMPONENT_DESCRIPTION: Final = "mltrace.component.description"
"""Free-text description of the component."""

COMPONENT_TAGS: Final = "mltrace.component.tags"
"""Tags of the component (string array)."""

COMPONENT_DEFINITION: Final = "mltrace.component.definition"
"""``true`` on a zero-length span that only declares or tags a component (not a run)."""

# --- Pipelines -------------------------------------------------------------------------------

PIPELINE_NAME: Final = "mltrace.pipeline.name"
"""Pipeline name, on the root span ``mltrace.pipeline()``/``mltrace run`` open: one pipeline
execution is one trace. Such a span never carries ``mltrace.component.name``, so it is not a
component run (the run tables select spans by that attribute)."""

PROCESS_EXECUTABLE_NAME: Final = "process.executable.name"
"""On an ``mltrace run`` pipeline span: the command's executable (OpenTelemetry process
convention; the arguments are not recorded, they may hold secrets)."""

PROCESS_EXIT_CODE: Final = "process.exit.code"
"""On an ``mltrace run`` pipeline span: the command's exit code (OpenTelemetry process
convention); a non-zero code sets the span status to ERROR."""

# --- Runs ---------------------------------------------------------------------------------

RUN_INPUTS: Final = "mltrace.run.inputs"
"""Names of the pointers the run read (string array)."""

RUN_INPUT_TYPES: Final = "mltrace.run.input_types"
"""Pointer types of ``mltrace.run.inputs``, same order (DATA, MODEL, ENDPOINT, UNKNOWN)."""

RUN_INPUT_VERSIONS: Final = "mltrace.run.input_versions"
"""Content hash or version of each input, same order; empty string when unknown."""

RUN_OUTPUTS: Final = "mltrace.run.outputs"
"""Names of the pointers the run wrote (string array)."""

RUN_OUTPUT_TYPES: Final = "mltrace.run.output_types"
"""Pointer types of ``mltrace.run.outputs``, same order."""

RUN_OUTPUT_VERSIONS: Final = "mltrace.run.output_versions"
"""Content hash or version of each output, same order; empty string when unknown."""

RUN_GIT_TAGS: Final = "mltrace.run.git_tags"
"""Git tags pointing at the commit that ran (string array)."""

RUN_CODE_SNAPSHOT: Final = "mltrace.run.code_snapshot"
"""Source code of the decorated function (or the bytes given to ``code_snapshot``, as UTF-8)."""

RUN_CODE_SNAPSHOT_HASH: Final = "mltrace.run.code_snapshot_hash"
"""SHA-256 of the code snapshot, so runs of identical code can be grouped cheaply."""

RUN_NOTES: Final = "mltrace.run.notes"
"""Free-text notes set when the run was logged."""

RUN_UPSTREAM: Final = "mltrace.run.upstream"
"""Components named with ``set_upstream`` (string array): each one's latest run that started
no later than this run is a dependency."""

RUN_STALENESS_THRESHOLD: Final = "mltrace.run.staleness_threshold"
"""Seconds after which a dependency counts as stale for this run (int)."""

DEFAULT_STALENESS_THRESHOLD: Final = 30 * 24 * 60 * 60
"""Seconds: the staleness threshold of a run that does not carry one (SPEC 3.4)."""

RUN_CONTINUATION_SPANS: Final = "mltrace.run.continuation_spans"
"""On a run span whose pointers did not fit in one span: how many continuation spans carry
the rest (int). See ``CONTINUATION``."""

CONTINUATION: Final = "mltrace.continuation"
"""``true`` on a continuation span: a child of a run span, with the run's component name,
start and end, carrying more of the run's ``mltrace.run.inputs``/``outputs`` (and their types
and versions). It is not a run of its own; its pointers belong to its parent run."""

# --- Links --------------------------------------------------------------------------------

LINK_POINTER: Final = "mltrace.link.pointer"
"""On a span link: the pointer name through which the linked run is a dependency."""

LINK_UPSTREAM: Final = "mltrace.link.upstream"
"""On a span link: the component named with ``set_upstream`` that created the link."""

# --- Events -------------------------------------------------------------------------------

EVENT_TEST: Final = "mltrace.test"
"""Span event name of one data-test method's outcome."""

TEST_NAME: Final = "mltrace.test.name"
"""Event attribute: ``<TestClass>.<method>``."""

TEST_PHASE: Final = "mltrace.test.phase"
"""Event attribute: ``before`` or ``after``."""

TEST_PASSED: Final = "mltrace.test.passed"
"""Event attribute: bool."""

TEST_DURATION: Final = "mltrace.test.duration"
"""Event attribute: seconds (double)."""

TEST_ERROR: Final = "mltrace.test.error"
"""Event attribute: the failure message, empty when passed."""

EVENT_TRIGGER: Final = "mltrace.trigger"
"""Span event name of one trigger's outcome (same attributes as a test event)."""

# --- Repairs (set when a span is stored, never by the SDK) ----------------------------------

REPAIRED: Final = "mltrace.repaired"
"""On a span that could not be stored as sent: what was changed to store it (one phrase each,
``; ``-separated), e.g. text that was not valid UTF-8 escaped, a start clamped into range."""

ORIGINAL_START_TIME: Final = "mltrace.original.start_time_unix_nano"
"""On a span whose start lay outside what ``DateTime64(9)`` holds: the start as sent
(nanoseconds since the epoch, decimal); ``Timestamp`` holds it clamped into range."""

# --- Pointer types (closed vocabulary) -----------------------------------------------------

POINTER_TYPES: Final = ("DATA", "MODEL", "ENDPOINT", "UNKNOWN")
"""Values of ``mltrace.run.input_types`` / ``mltrace.run.output_types``."""


def sql_names() -> dict[str, str]:
    """Constants exposed to SQL templates as ``{{NAME}}`` placeholders."""
    return {
        name: value
        for name, value in globals().items()
        if name.isupper() and isinstance(value, str)
    }
