"""The per-run cwd lookup (libc getcwd holding the GIL) gives what os.getcwd gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltrace_otel.sdk import git


def test_same_string_as_os_getcwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git._getcwd() == os.getcwd()
    undecodable = tmp_path / os.fsdecode(b"caf\xe9-\xff")  # surrogate-escaped, as os gives it
    undecodable.mkdir()
    monkeypatch.chdir(undecodable)
    assert git._getcwd() == os.getcwd()
    for _ in range(25):  # a cwd longer than the 4096-byte buffer, made one level at a time
        os.mkdir("d" * 200)
        monkeypatch.chdir("d" * 200)
    assert len(os.getcwd()) > 4096
    assert git._getcwd() == os.getcwd()


def test_a_removed_cwd_raises_as_os_getcwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(FileNotFoundError):
        os.getcwd()
    with pytest.raises(FileNotFoundError):
        git._getcwd()
