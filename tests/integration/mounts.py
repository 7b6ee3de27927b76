"""Real file systems that fail the way production disks do: a read-only bind mount, a tiny tmpfs.

Permission bits cannot do it (tests run as root in the container, and root ignores them), so these
mount for real and skip with a reason where mounting is not permitted.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> str | None:
    """None on success, else why it failed."""
    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else (done.stderr.strip() or f"mount exited {done.returncode}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)


@contextlib.contextmanager
def read_only_folder(base: Path) -> Iterator[Path]:
    """An empty folder that is a read-only bind mount (EROFS for every write, root included)."""
    source, target = base / "ro-source", base / "ro"
    source.mkdir()
    target.mkdir()
    if reason := _mount("--bind", "-o", "ro", str(source), str(target)):
        pytest.skip(f"cannot make a read-only bind mount here ({reason})")
    try:
        yield target
    finally:
        _umount(target)


@contextlib.contextmanager
def small_disk(base: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` (fill it with `fill`)."""
    target = base / "small-disk"
    target.mkdir()
    if reason := _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)):
        pytest.skip(f"cannot mount a small tmpfs here ({reason})")
    try:
        yield target
    finally:
        _umount(target)


def fill(folder: Path) -> Path:
    """Write zeros until the device is full (ENOSPC); returns the filler file."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
    with filler.open("ab", buffering=0) as f:  # the last partial chunk
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler
