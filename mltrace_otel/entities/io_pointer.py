"""mltrace's ``mltrace.entities.io_pointer``: ``IOPointer``."""

from mltrace_otel.sdk.pointers import IOPointer

__all__ = ["IOPointer"]
