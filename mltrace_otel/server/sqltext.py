"""Just enough of ClickHouse's SQL lexer for the HTTP interface: where a statement ends, what
kind it is, its ``FORMAT`` clause, and where an ``INSERT ... FORMAT`` statement's data begins.

Strings, quoted identifiers and comments are skipped exactly, so a ``;`` or ``FORMAT`` inside
them never counts.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"\s+")


class SqlTextError(ValueError):
    """The text is not a single statement the server accepts."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "quoted", "string", "number", "symbol"
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The tokens of ``text`` with comments and whitespace removed."""
    found: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        elif text.startswith("--", i) or ch == "#":
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                raise SqlTextError("unterminated comment")
            i = close + 2
        elif ch in "'\"`":
            end = _quoted_end(text, i)
            found.append(Token("string" if ch == "'" else "quoted", text[i:end], i, end))
            i = end
        elif ch.isalpha() or ch == "_":
            end = _WORD.match(text, i).end()  # type: ignore[union-attr]
            found.append(Token("word", text[i:end], i, end))
            i = end
        elif ch.isdigit():
            end = i + 1
            while end < n and (text[end].isalnum() or text[end] in "._"):
                end += 1
            found.append(Token("number", text[i:end], i, end))
            i = end
        else:
            found.append(Token("symbol", ch, i, i + 1))
            i += 1
    return found


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    raise SqlTextError("unterminated quoted string or identifier")


def single_statement(found: list[Token]) -> list[Token]:
    """The tokens without a trailing ``;``; raises when several statements were sent."""
    while found and found[-1].text == ";":
        found = found[:-1]
    if any(token.text == ";" for token in found):
        raise SqlTextError("Multi-statements are not allowed")
    if not found:
        raise SqlTextError("Empty query")
    return found


def statement_kind(found: list[Token]) -> str:
    """The statement's first keyword in upper case (``SELECT`` also for ``(SELECT ...)``)."""
    for token in found:
        if token.text != "(":
            return token.text.upper() if token.kind == "word" else ""
    return ""


def writes_outfile(found: list[Token]) -> bool:
    """Whether the statement has ``INTO OUTFILE`` (a file on the server's disk)."""
    return any(
        a.kind == b.kind == "word" and a.text.upper() == "INTO" and b.text.upper() == "OUTFILE"
        for a, b in itertools.pairwise(found)
    )


def output_format(found: list[Token]) -> str | None:
    """The name in a trailing ``FORMAT name`` clause (possibly before ``SETTINGS``)."""
    depth = 0
    for index, token in enumerate(found):
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif (
            depth == 0
            and token.kind == "word"
            and token.text.upper() == "FORMAT"
            and index + 1 < len(found)
            and found[index + 1].kind == "word"
        ):
            return found[index + 1].text
    return None


@dataclass(frozen=True)
class InsertWithData:
    """``INSERT INTO <target> FORMAT <fmt>`` followed by data."""

    target: str  # table and optional column list, as written
    fmt: str
    data_start: int  # offset in the text where the inline data begins


_INSERT_HEAD = re.compile(r"\s*INSERT\s+INTO\s+(?:TABLE\s+)?", re.IGNORECASE)
_FORMAT = re.compile(r"(?<![A-Za-z0-9_])FORMAT\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def insert_with_data(text: str) -> InsertWithData | None:
    """Split ``INSERT INTO t [(cols)] FORMAT fmt <data>``; None for any other statement.

    ``text`` may hold binary data after the format name (decode it as latin-1 so offsets are
    byte offsets). The data begins after the first newline following the format name, or
    after the whitespace when there is no newline (ClickHouse's rule).
    """
    head = _INSERT_HEAD.match(text)
    if head is None:
        return None
    for match in _FORMAT.finditer(text, head.end()):
        target = text[head.end() : match.start()]
        try:
            if not _is_target(tokens(target)):
                continue
        except SqlTextError:
            continue
        data = match.end()
        newline = text.find("\n", data)
        if newline >= 0 and not text[data:newline].strip(" \t\r"):
            data = newline + 1
        else:
            while data < len(text) and text[data] in " \t\r":
                data += 1
        return InsertWithData(target.strip(), match.group(1), data)
    return None


def _is_target(found: list[Token]) -> bool:
    """A table name (maybe qualified, maybe quoted) and an optional column list."""
    if not found or found[0].kind not in ("word", "quoted"):
        return False
    if any(token.kind == "word" and token.text.upper() in _NOT_TARGET for token in found):
        return False
    depth = 0
    for token in found:
        depth += (token.text == "(") - (token.text == ")")
        if depth < 0:
            return False
    return depth == 0


_NOT_TARGET = frozenset({"SELECT", "VALUES", "WITH", "SETTINGS", "FUNCTION"})
