"""Users and passwords as ClickHouse's HTTP interface takes them.

Credentials come from ``X-ClickHouse-User``/``X-ClickHouse-Key``, or HTTP basic auth, or the
``user``/``password`` URL parameters (mixing headers with the others is refused, as
ClickHouse does); no credentials means user ``default`` with an empty password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from mltrace_otel.server.errors import ClickHouseError

DEFAULT_USER = "default"


@dataclass(frozen=True)
class User:
    """A user: its password's SHA-256 (never the password) and its ``readonly`` level."""

    name: str
    password_sha256: bytes
    readonly: int = 0

    @classmethod
    def with_password(cls, name: str, password: str, readonly: int = 0) -> User:
        return cls(name, hashlib.sha256(password.encode()).digest(), readonly)

    def accepts(self, password: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(password.encode()).digest(),
                                   self.password_sha256)

    @property
    def has_password(self) -> bool:
        return not self.accepts("")

    def __repr__(self) -> str:  # never show the hash either
        return f"User({self.name!r}, readonly={self.readonly})"


class Users:
    """The users of one server."""

    def __init__(self, users: list[User]) -> None:
        self._users = {user.name: user for user in users}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._users.values())

    def authenticate(self, headers: Mapping[str, str], query: Mapping[str, str]) -> User:
        """The user the request's credentials name; ``ClickHouseError`` 516 otherwise."""
        name, password = _credentials(headers, query)
        user = self._users.get(name)
        if user is None or not user.accepts(password):
            raise ClickHouseError(
                516,
                f"{name}: Authentication failed: password is incorrect, or there is no user "
                "with such name",
                "AUTHENTICATION_FAILED",
            )
        return user


def _credentials(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str, str]:
    header_user = headers.get("X-ClickHouse-User")
    header_key = headers.get("X-ClickHouse-Key")
    authorization = headers.get("Authorization", "")
    if header_user is not None or header_key is not None:
        if authorization or "user" in query or "password" in query:
            raise ClickHouseError(
                194,
                "Invalid authentication: it is not allowed to use X-ClickHouse HTTP headers "
                "and other authentication methods simultaneously",
                "REQUIRED_PASSWORD",
            )
        return header_user or DEFAULT_USER, header_key or ""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            error = ClickHouseError(194, "Invalid authorization header", "REQUIRED_PASSWORD")
            raise error from None
        name, _, password = decoded.partition(":")
        return name or DEFAULT_USER, password
    return query.get("user") or DEFAULT_USER, query.get("password", "")
