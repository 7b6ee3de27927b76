"""Problems an operator can fix, told in one line: a data folder that cannot be used, a database
that cannot be reached, a knowledge folder that is missing.

Why a module: the same few failures (read-only or full disk, a file where a folder should be,
PostgreSQL down, a port in use) surface as different exceptions from different libraries (`OSError`,
`sqlite3`, `psycopg`, `aiohttp`) deep inside start-up. The entry point asks `explain` whether an
exception is one of them; if so it prints the line and exits 2, otherwise it is a bug and keeps
its traceback. `prepare_data_dir` checks the folder first, so the common cases are named before
anything slow starts.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from bot.config import ConfigError, Settings

__all__ = ["OperatorError", "check_knowledge_dir", "explain", "prepare_data_dir"]


class OperatorError(ConfigError):
    """Start-up cannot go on for a reason outside the code; the message is one line."""


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data folder if needed and prove it is writable, or raise `OperatorError`.

    Permission bits are not enough to tell (root ignores them; a read-only mount ignores root),
    so a temporary file is created and removed.
    """
    where = f"data folder {data_dir} (CAREERBOT_DATA_DIR)"
    if data_dir.exists() and not data_dir.is_dir():
        raise OperatorError(f"{where} is a file, not a folder")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".careerbot-write-test-", dir=data_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OperatorError(f"{where} cannot be used: {_os_reason(exc)}") from None


def check_knowledge_dir(knowledge_dir: Path) -> None:
    """The knowledge folder must hold the articles; without them there is nothing to answer from."""
    where = f"knowledge folder {knowledge_dir} (CAREERBOT_KNOWLEDGE_DIR)"
    if not knowledge_dir.is_dir():
        raise OperatorError(f"{where} does not exist")
    articles = knowledge_dir / "articles"
    if not articles.is_dir() or not any(articles.glob("*.md")):
        raise OperatorError(f"{where} has no articles/*.md")


def explain(exc: BaseException, settings: Settings) -> str | None:
    """One line for a failure the operator can fix, or None when it is a bug."""
    if isinstance(exc, OSError) and exc.errno in _OPERATOR_ERRNOS:
        if exc.errno == errno.EADDRINUSE:
            return f"the port is already in use ({exc.strerror})"
        if exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                         errno.EADDRNOTAVAIL):
            return f"cannot connect: {exc.strerror}"
        name = exc.filename if exc.filename is not None else settings.data_dir
        return f"cannot use {name}: {_os_reason(exc)}"
    if type(exc) in (sqlite3.OperationalError, sqlite3.DatabaseError):  # not integrity or programming errors
        if _disk_full(Path(_sqlite_path(settings)).parent):
            # SQLite reports a full disk at open as a "disk I/O error" (it cannot size its -shm file).
            return (f"the SQLite database {_sqlite_path(settings)} cannot be opened: no space left on the device "
                    "(CAREERBOT_DATA_DIR)")
        return (f"the SQLite database {_sqlite_path(settings)} cannot be used: {_first_line(exc)} "
                "(check CAREERBOT_DATA_DIR / CAREERBOT_DATABASE_URL: disk space, permissions, a damaged file)")
    kind = type(exc).__module__.split(".")[0]
    if kind == "psycopg_pool" or (kind == "psycopg" and _is_operational(exc)):
        return f"cannot use PostgreSQL at {_db_host(settings)} (CAREERBOT_DATABASE_URL): {_first_line(exc)}"
    if kind == "aiohttp" and "Connect" in type(exc).__name__:
        return f"cannot connect to {getattr(exc, 'host', '?')}:{getattr(exc, 'port', '?')}: {_first_line(exc)}"
    return None


_OPERATOR_ERRNOS = frozenset({
    errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST,
    errno.EISDIR, errno.EFBIG, errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.ECONNREFUSED, errno.EHOSTUNREACH,
    errno.ENETUNREACH, errno.ETIMEDOUT,
})
"""OS errors that describe the machine (disk, permissions, network), not a bug in the code."""


def _is_operational(exc: BaseException) -> bool:
    return any(cls.__name__ == "OperationalError" for cls in type(exc).__mro__)


def _os_reason(exc: OSError) -> str:
    reasons = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "it is on a read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "a file is in the way where a folder should be",
        errno.EEXIST: "a file is in the way where a folder should be",
        errno.EFBIG: "file size limit exceeded",
    }
    return reasons.get(exc.errno or 0) or (exc.strerror or type(exc).__name__)


def _disk_full(folder: Path, *, reserve: int = 64 * 1024) -> bool:
    try:
        return shutil.disk_usage(folder).free < reserve
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _sqlite_path(settings: Settings) -> str:
    return settings.database_url.removeprefix("sqlite:///") or "?"


def _db_host(settings: Settings) -> str:
    """Host and database of the URL, never its credentials."""
    rest = settings.database_url.partition("://")[2]
    return rest.rpartition("@")[2] or "?"
