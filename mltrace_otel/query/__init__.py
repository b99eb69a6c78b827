"""The query API (SPEC 3.4): runs, components, trace, review, flags, notes, staleness and
impact as plain Python objects, from the SQL in ``queries/``."""

SORTS = ("score", "coverage")
"""The orders of ``review()``: by suspiciousness score or by coverage of flagged outputs."""
