"""mltrace's ``mltrace.entities.base_component``: ``Component``."""

from mltrace_otel.sdk.component import Component

__all__ = ["Component"]
