"""Attribute stringification against the real Collector code: the golden file holds what
pdata v1.71.0's ``pcommon.Value.AsString`` (which the ClickHouse exporter stores) returns for
each value, produced by ``tests/golden/pcommon_asstring/main.go``."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common._internal import _encode_value
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from mltrace_otel import rows

GOLDEN = json.loads((Path(__file__).parent / "golden" / "pcommon_asstring.json").read_text())
CASES = [(case["raw"], case["as_string"]) for case in GOLDEN["cases"]]


def python_value(raw: Any) -> Any:
    """The golden file's spelling of a value as a Python value."""
    if isinstance(raw, dict) and list(raw) == ["$float"]:
        return float(raw["$float"].replace("Inf", "inf"))
    if isinstance(raw, dict) and list(raw) == ["$bytes"]:
        return base64.b64decode(raw["$bytes"])
    if isinstance(raw, dict):
        return {key: python_value(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [python_value(item) for item in raw]
    return raw


def any_value(value: Any) -> AnyValue:
    """An OTLP ``AnyValue`` as the Python OTLP exporter encodes ``value``."""
    return _encode_value(value)


def is_sdk_attribute(value: Any) -> bool:
    """What the Python SDK accepts as an attribute value: a scalar or a flat homogeneous list."""
    scalars = (str, bool, int, float)
    if isinstance(value, scalars):
        return True
    return (
        isinstance(value, list)
        and all(isinstance(item, scalars) for item in value)
        and len({type(item) for item in value}) <= 1
    )


def test_golden_file_covers_every_kind() -> None:
    kinds = {type(python_value(raw)).__name__ for raw, _ in CASES}
    assert {"str", "int", "bool", "float", "bytes", "list", "dict"} <= kinds
    assert len(CASES) > 400


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=range(len(CASES)))
def test_otlp_any_value_string_matches_pdata(raw: Any, expected: str) -> None:
    assert rows.any_value_string(any_value(python_value(raw))) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [case for case in CASES if is_sdk_attribute(python_value(case[0]))],
)
def test_sdk_attribute_string_matches_pdata(raw: Any, expected: str) -> None:
    assert rows.attribute_string(python_value(raw)) == expected
