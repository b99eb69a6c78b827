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


def get_git_hash(folder: str | None = None) -> str:
    """Commit hash of HEAD of the repository containing ``folder`` (default: cwd), or ''."""
    return _head(os.path.abspath(folder or os.getcwd()))[0]


def get_git_tags(folder: str | None = None) -> list[str]:
    """Tags pointing at HEAD of the repository containing ``folder`` (default: cwd)."""
    return list(_head(os.path.abspath(folder or os.getcwd()))[1])
