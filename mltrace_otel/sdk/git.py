"""Git facts about the code that runs (GitPython, imported lazily and cached per folder)."""

from __future__ import annotations

import functools
import logging
import os

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


_by_cwd: dict[str, tuple[str, tuple[str, ...]]] = {}
_MAX_CWDS = 64


def head_facts(folder: str | None = None) -> tuple[str, tuple[str, ...]]:
    """(commit hash, tags) of HEAD of the repository containing ``folder`` (default: cwd).

    For the cwd this costs one ``os.getcwd()``: the answer is cached per process keyed on the
    cwd string (a ``chdir`` selects another entry), at most ``_MAX_CWDS`` of them."""
    if folder:
        return _head(os.path.abspath(folder))
    cwd = os.getcwd()
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
