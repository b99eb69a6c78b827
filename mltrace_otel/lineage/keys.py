"""64-bit keys of pointers and runs, the same the SQL of the lineage index computes:
pointer names and versions by the first 8 bytes of their MD5, runs by their span id."""

from __future__ import annotations

import hashlib


def pointer_key(name: str) -> int:
    """The 64-bit key of a pointer name or version ('' has key 0 as a version)."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "little")


def run_key(run_id: str) -> int:
    return int(run_id, 16)


def run_id(key: int) -> str:
    return format(key, "016x")
