"""Bulk query work with the cyclic garbage collector paused.

Review and impact over 10^4 runs decode and build about 10^6 small containers; every gen-2
collection meanwhile scans all live objects, about a third of such a call's time. These
objects hold no reference cycles, so collection can wait until the call returns. What the
call keeps (the result) then moves to the oldest generation at once (``gc.freeze`` then
``gc.unfreeze``, two list splices), instead of being scanned by a gen-0 and a gen-1 collection
first (~0.2 s after a review of 10^4 runs). A caller that froze objects itself keeps them
frozen: the promotion is skipped.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the cyclic collector paused (restored afterwards)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if not gc.get_freeze_count():  # a caller's frozen objects stay frozen
                gc.freeze()  # what the call kept goes to the oldest generation, unscanned
                gc.unfreeze()
            gc.enable()

    return wrapper
