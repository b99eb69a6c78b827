"""Attribute values as the strings the Collector's ClickHouse exporter stores.

The exporter writes every attribute as ``pcommon.Value.AsString()`` (pdata v1.71,
``pcommon/value.go``): strings verbatim, ints in decimal, doubles in the ECMAScript
number-to-string form of Go's ``encoding/json``, bools ``true``/``false``, bytes in standard
base64, arrays and maps as JSON of their raw values (Go's ``encoding/json`` with HTML escaping
off, map keys sorted). Go's JSON encoder fails on NaN and infinities, and ``AsString`` then
returns the empty string; that is reproduced too. The values come either from the Python SDK
(``str``, ``bool``, ``int``, ``float``, ``bytes`` and sequences of them) or from OTLP
``AnyValue`` messages.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

_JSON_ONLY_ESCAPES = {"\u2028": "\\u2028", "\u2029": "\\u2029"}
"""Characters Go's JSON encoder escapes even with HTML escaping off; Python's does not."""


_JSON_STRING = encode_basestring
"""Python's (C) JSON string encoder: the same output as Go's, but for U+2028/U+2029."""


class _NotJson(ValueError):
    """A value Go's JSON encoder refuses (NaN, infinities)."""


def float_string(value: float) -> str:
    """A double as ``pcommon.Value.AsString`` writes it (``1.0`` -> ``1``, ``1e-07`` -> ``1e-7``,
    ``nan`` -> ``NaN``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return _ecmascript_number(value)


def _ecmascript_number(value: float) -> str:
    """Go's ``strconv.FormatFloat`` with ``'f'``/``'e'`` and ``-1`` digits, as encoding/json
    chooses them: exponent form below 1e-6 and from 1e21 on, exponent without leading zeros."""
    shortest = repr(value)  # Python's repr has the same shortest round-trip digits as Go
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, _, exponent = shortest.partition("e")
        sign, digits = exponent[0], exponent[1:]
        if sign == "-" and len(digits) == 2 and digits[0] == "0":
            digits = digits[1:]
        return f"{mantissa}e{sign}{digits}"
    if "e" in shortest:
        return format(Decimal(shortest), "f")
    return shortest[:-2] if shortest.endswith(".0") else shortest


def _json_string(text: str) -> str:
    encoded = _JSON_STRING(text)
    if "\u2028" in encoded or "\u2029" in encoded:
        for character, escape in _JSON_ONLY_ESCAPES.items():
            encoded = encoded.replace(character, escape)
    return encoded


def _json(value: Any) -> str:
    """Go ``encoding/json`` of a raw value (``Value.AsRaw()``)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise _NotJson(value)
        return _ecmascript_number(value)
    if isinstance(value, (bytes, bytearray)):
        return '"' + base64.b64encode(value).decode("ascii") + '"'
    if isinstance(value, Mapping):
        items = sorted((str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{_json_string(key)}:{_json(item)}" for key, item in items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(_json(item) for item in value) + "]"
    raise _NotJson(value)


def _json_or_empty(value: Any) -> str:
    try:
        return _json(value)
    except _NotJson:
        return ""


def sdk_value_string(value: Any) -> str:
    """``AsString`` of a Python SDK attribute value (what the OTLP exporter would send)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is tuple and all(type(item) is str for item in value):  # what the SDK keeps
        return _json_string_array(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_string(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Sequence) and all(type(item) is str for item in value):
        return _json_string_array(value)
    return _json_or_empty(value)


def _json_string_array(items: Sequence[str]) -> str:
    """The common case (pointer names) at C speed."""
    encoded = "[" + ",".join(map(_JSON_STRING, items)) + "]"
    if "\u2028" in encoded or "\u2029" in encoded:
        for character, escape in _JSON_ONLY_ESCAPES.items():
            encoded = encoded.replace(character, escape)
    return encoded


def any_value_string(value: Any) -> str:
    """``AsString`` of an OTLP ``AnyValue`` message."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind is None:
        return ""
    if kind == "int_value":
        return str(value.int_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "double_value":
        return float_string(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if kind == "array_value":  # pointer lists: strings only, encoded in one C call
        strings = []
        for item in value.array_value.values:
            if item.WhichOneof("value") != "string_value":
                break
            strings.append(item.string_value)
        else:
            return _json_string_array(strings)
    return _json_or_empty(_raw(value))


def _raw(value: Any) -> Any:
    """``Value.AsRaw()`` of an ``AnyValue``: plain Python values, maps last-key-wins."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_raw(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: _raw(pair.value) for pair in value.kvlist_value.values}
    return getattr(value, kind)
