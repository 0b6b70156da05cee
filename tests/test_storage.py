"""Atomic writes: complete or absent, with the permissions an ordinary open would give."""

from __future__ import annotations

import os
import stat

import pytest

from radiopipe.storage import atomic_write, atomic_write_text


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "report.html", "<p>ok</p>")
        reference = tmp_path / "plain.txt"
        reference.write_text("x", encoding="utf-8")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    def broken(tmp):
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        atomic_write(tmp_path / "out.txt", broken)
    assert list(tmp_path.iterdir()) == []

