"""The fast path for string parameters binds exactly what clickhouse-connect would."""

from __future__ import annotations

import random

from clickhouse_connect.driver.binding import format_bind_value

from mltrace_otel.store.values import bind_value

ALPHABET = "ab\\'`\t\n\r\"{}[]%é😀,; 0"


def test_strings_and_string_lists_bind_like_clickhouse_connect() -> None:
    chance = random.Random(3)
    for _ in range(3000):
        text = "".join(chance.choice(ALPHABET) for _ in range(chance.randrange(12)))
        assert bind_value(text) == str(format_bind_value(text)), repr(text)
        items = ["".join(chance.choice(ALPHABET) for _ in range(chance.randrange(5)))
                 for _ in range(chance.randrange(5))]
        assert bind_value(items) == str(format_bind_value(items)), repr(items)
