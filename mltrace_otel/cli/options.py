"""Options shared by the commands that read or write the store."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

import mltrace_otel as mltrace
from mltrace_otel.secrets import redact

F = TypeVar("F", bound=Callable[..., Any])


def store_options(command: F) -> F:
    """``--address``/``--url`` (point at a ClickHouse server) and error handling."""

    @click.option("--address", default=None, help="ClickHouse server host (mltrace's set_address).")
    @click.option("--url", default=None, help="ClickHouse server URL, e.g. http://host:8123/db.")
    @functools.wraps(command)
    def wrapper(*args: Any, address: str | None, url: str | None, **kwargs: Any) -> Any:
        if url and address:
            raise click.UsageError("give either --url or --address, not both")
        try:
            if url:
                mltrace.set_db_uri(url)
            elif address:
                mltrace.set_address(address)
            return command(*args, **kwargs)
        except (mltrace.NotFoundError, mltrace.StoreError, mltrace.ConfigurationError) as error:
            raise click.ClickException(redact(str(error))) from None
        except (ValueError, OSError) as error:
            raise click.ClickException(redact(f"{type(error).__name__}: {error}")) from None

    return wrapper
