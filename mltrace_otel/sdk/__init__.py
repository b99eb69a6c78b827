"""The pipeline side: what runs inside a pipeline process.

Components, runs, pointers, data tests and the export path of finished runs. This wing stays
light (no chDB, numpy, pyarrow or clickhouse-connect at import time), never raises into the
user's pipeline, and never imports the query side (``store``, ``lineage``, ``query``, ``cli``,
``server``); ``tests/test_layout.py`` keeps it so.
"""
