"""Git facts about the code that runs (GitPython, imported lazily and cached per folder)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable

logger = logging.getLogger("mltrace_otel")


@functools.lru_cache(maxsize=64)
def _head(folder: str) -> tuple[str, tuple[str, ...]]:
    try:
        import git

        repo = git.Repo(folder, search_parent_directories=True)
        commit = repo.head.commit
        tags = tuple(sorted(tag.name for tag in repo.tags if tag.commit == commit))
        return commit.hexsha, tags
    except Exception as error:  # not a repository, no commits, no git binary
        logger.debug("mltrace: no git information for %s: %s", folder, error)
        return "", ()


def _gil_holding_getcwd() -> Callable[[], str]:
    """``os.getcwd`` for the per-run lookup, calling libc's ``getcwd`` without releasing the
    GIL (ctypes ``PyDLL``); ``os.getcwd`` itself where that is not available.

    ``os.getcwd`` releases the GIL. Released once per run, every ~100 us, it starves the span
    export thread: a thread waiting for the GIL only forces a switch when the holder has not
    let go for a whole switch interval (5 ms), and the releasing thread takes it straight
    back. Spans then pile up in the queue by the ten thousand and every full garbage
    collection walks them. The result is the same string: the path decoded as
    ``os.getcwd`` decodes it (``os.fsdecode``)."""
    if os.name != "posix":
        return os.getcwd
    try:
        import ctypes

        libc_getcwd = ctypes.PyDLL(None).getcwd
    except (ImportError, OSError, AttributeError):
        return os.getcwd
    # One buffer for every call, and no argtypes (ctypes' per-call conversion was half the
    # cost): the call holds the GIL, and the cwd is the process's, so a thread that reads
    # the buffer after another thread's call still reads the current directory.
    libc_getcwd.restype = ctypes.c_void_p
    buffer = ctypes.create_string_buffer(_CWD_BUFFER)
    size = ctypes.c_size_t(_CWD_BUFFER)

    def getcwd() -> str:
        if not libc_getcwd(buffer, size):  # a longer path, or an error: as os reports
            return os.getcwd()
        return os.fsdecode(buffer.value)

    return getcwd


_CWD_BUFFER = 4096


def _getcwd() -> str:
    global _getcwd
    _getcwd = _gil_holding_getcwd()  # chosen once, on first use (ctypes off the import path)
    return _getcwd()


_by_cwd: dict[str, tuple[str, tuple[str, ...]]] = {}
_MAX_CWDS = 64


def head_facts(folder: str | None = None) -> tuple[str, tuple[str, ...]]:
    """(commit hash, tags) of HEAD of the repository containing ``folder`` (default: cwd).

    For the cwd this costs one ``os.getcwd()``: the answer is cached per process keyed on the
    cwd string (a ``chdir`` selects another entry), at most ``_MAX_CWDS`` of them."""
    if folder:
        return _head(os.path.abspath(folder))
    cwd = _getcwd()
    facts = _by_cwd.get(cwd)
    if facts is None:
        if len(_by_cwd) >= _MAX_CWDS:
            _by_cwd.clear()
        facts = _by_cwd[cwd] = _head(os.path.abspath(cwd))
    return facts


def get_git_hash(folder: str | None = None) -> str:
    """Commit hash of HEAD of the repository containing ``folder`` (default: cwd), or ''."""
    return head_facts(folder)[0]


def get_git_tags(folder: str | None = None) -> list[str]:
    """Tags pointing at HEAD of the repository containing ``folder`` (default: cwd)."""
    return list(head_facts(folder)[1])
