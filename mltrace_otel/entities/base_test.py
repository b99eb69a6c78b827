"""mltrace's ``mltrace.entities.base_test``: ``Test``."""

from mltrace_otel.sdk.datatests import Test

__all__ = ["Test"]
