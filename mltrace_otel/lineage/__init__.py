"""Lineage (SPEC 3.3): which run each run depends on, derived at query time from the pointer
index, span links and ``set_upstream`` names; walks up (trace) and down (impact) the graph."""
