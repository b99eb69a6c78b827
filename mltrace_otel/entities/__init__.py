"""mltrace compatibility: ``from mltrace.entities import ComponentRun, IOPointer, ...`` and
mltrace's submodules (``from mltrace.entities import base_test, base_component``, and 0.17's
``components`` and ``tests``) keep working with the import swapped; each name is the one
``mltrace_otel`` itself exports."""

from mltrace_otel.entities import components, tests
from mltrace_otel.sdk.component import Component
from mltrace_otel.sdk.datatests import Test
from mltrace_otel.sdk.not_built import Task
from mltrace_otel.sdk.pointers import IOPointer
from mltrace_otel.sdk.run import ComponentRun

__all__ = ["Component", "ComponentRun", "IOPointer", "Task", "Test", "components", "tests"]
