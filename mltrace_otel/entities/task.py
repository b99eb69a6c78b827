"""mltrace's ``mltrace.entities.task``: ``Task``."""

from mltrace_otel.sdk.not_built import Task

__all__ = ["Task"]
