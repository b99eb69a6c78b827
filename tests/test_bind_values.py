"""The embedded store binds parameters exactly as clickhouse-connect would (the server store
uses clickhouse-connect itself), without importing it."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date, datetime, timezone

from clickhouse_connect.driver.binding import format_bind_value

from mltrace_otel.store.values import bind_value

ALPHABET = "ab\\'`\t\n\r\"{}[]%é😀,; 0"


def _text(chance: random.Random, longest: int) -> str:
    return "".join(chance.choice(ALPHABET) for _ in range(chance.randrange(longest)))


def test_strings_and_string_lists_bind_like_clickhouse_connect() -> None:
    chance = random.Random(3)
    for _ in range(3000):
        text = _text(chance, 12)
        assert bind_value(text) == str(format_bind_value(text)), repr(text)
        items = [_text(chance, 5) for _ in range(chance.randrange(5))]
        assert bind_value(items) == str(format_bind_value(items)), repr(items)


def test_numbers_nulls_dates_and_nested_values_bind_like_clickhouse_connect() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    for value in [0, -7, 2**63 + 5, 1.5, float("inf"), True, None, date(2026, 1, 2),
                  [1, 2, 3], [None, "a'b"], [[1, 2], []], ("x", 1, None), [moment],
                  [date(2026, 1, 2)], (1.25, [True])]:
        assert bind_value(value) == str(format_bind_value(value)), repr(value)


def test_top_level_datetimes_bind_in_utc_with_microseconds() -> None:
    assert bind_value(datetime(2026, 3, 4, 5, 6, 7, 890)) == "2026-03-04 05:06:07.000890"
    local = datetime.fromisoformat("2026-03-04T07:06:07+02:00")
    assert bind_value(local) == "2026-03-04 05:06:07.000000"


def test_binding_does_not_import_clickhouse_connect() -> None:
    program = ("import sys; from mltrace_otel.store.values import bind_parameters; "
               "bind_parameters({'a': ['x'], 'b': 1}); "
               "print('clickhouse_connect' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
