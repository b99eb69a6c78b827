"""mltrace's ``mltrace.entities.component_run``: ``ComponentRun``."""

from mltrace_otel.sdk.run import ComponentRun

__all__ = ["ComponentRun"]
