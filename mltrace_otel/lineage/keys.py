"""64-bit keys of pointers and runs, the same the SQL of the lineage index computes:
pointer names and versions by the first 8 bytes of their MD5, runs by their span id."""

from __future__ import annotations

import hashlib
import re

_SPAN_ID = re.compile(r"[0-9a-f]{16}")


def pointer_key(name: str) -> int:
    """The 64-bit key of a pointer name or version ('' has key 0 as a version)."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "little")


def span_key(run_id: str) -> int | None:
    """The key of a run id that is a span id (16 lower-case hex digits), else None."""
    return int(run_id, 16) if _SPAN_ID.fullmatch(run_id) else None


def run_id(key: int) -> str:
    """The span id of a run key."""
    return f"{key:016x}"
