"""Errors as ClickHouse's HTTP interface sends them: ``X-ClickHouse-Exception-Code``, the
status ClickHouse maps the code to, and ``Code: N. DB::Exception: text (NAME) (version V)``."""

from __future__ import annotations

import re

_BAD_REQUEST = frozenset({
    6, 25, 26, 27, 36, 37, 38, 41, 53, 62, 72, 117, 123, 167, 168, 223, 376, 427, 441, 675, 676,
})
_NOT_FOUND = frozenset({46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511})
_FORBIDDEN = frozenset({192, 193, 512, 516})
_STATUS = {194: 401, 229: 413, 48: 501, 209: 503, 381: 411, 159: 408}

_CODE = re.compile(r"Code: (\d+)\. DB::Exception: ")
_TRAILER = re.compile(r"\s*\(([A-Z_0-9]+)\)\s*(\(version [^)]*\))?\.?\s*$")


def http_status(code: int) -> int:
    """The HTTP status ClickHouse answers an exception code with."""
    if code in _BAD_REQUEST:
        return 400
    if code in _NOT_FOUND:
        return 404
    if code in _FORBIDDEN:
        return 403
    return _STATUS.get(code, 500)


class ClickHouseError(Exception):
    """An error to send the way ClickHouse does."""

    def __init__(self, code: int, message: str, name: str, version: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.name = name
        self.version = version

    @property
    def status(self) -> int:
        return http_status(self.code)

    def text(self) -> str:
        version = f" (version {self.version})" if self.version else ""
        return f"Code: {self.code}. DB::Exception: {self.message}. ({self.name}){version}\n"

    @classmethod
    def from_chdb(cls, error: BaseException, version: str) -> ClickHouseError:
        """chDB's exception text (often wrapped twice) as one ClickHouse error."""
        text = str(error).strip()
        matches = list(_CODE.finditer(text))
        if not matches:
            return cls(1002, text.splitlines()[0] if text else type(error).__name__,
                       "UNKNOWN_EXCEPTION", version)
        code = int(matches[0].group(1))
        inner = text[matches[-1].end():]
        name = "UNKNOWN_EXCEPTION"
        while trailer := _TRAILER.search(inner):
            name, inner = trailer.group(1), inner[: trailer.start()]
        return cls(code, inner.rstrip(". "), name, version)
