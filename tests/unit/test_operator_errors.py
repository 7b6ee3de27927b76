"""`explain`: failures of the machine become one line; failures of the code stay tracebacks."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from bot.config import Settings
from bot.operator_errors import OperatorError, check_knowledge_dir, explain, prepare_data_dir

SETTINGS = Settings(data_dir=Path("/srv/careerbot"), database_url="postgresql://bot:pw-secret-1@db:5432/careerbot")


@pytest.mark.parametrize(("exc", "needle"), [
    (OSError(errno.ENOSPC, "No space left on device", "/srv/careerbot/index/x"), "no space left"),
    (OSError(errno.EROFS, "Read-only file system", "/srv/careerbot/x"), "read-only"),
    (OSError(errno.EADDRINUSE, "Address already in use"), "already in use"),
    (sqlite3.OperationalError("unable to open database file"), "unable to open"),
    (sqlite3.DatabaseError("file is not a database"), "not a database"),
])
def test_machine_failures_are_one_line(exc: BaseException, needle: str) -> None:
    line = explain(exc, SETTINGS)
    assert line is not None and needle in line and "\n" not in line


@pytest.mark.parametrize("exc", [
    BrokenPipeError(errno.EPIPE, "Broken pipe"),
    sqlite3.IntegrityError("UNIQUE constraint failed"),
    sqlite3.ProgrammingError("Cannot operate on a closed database."),
    KeyError("x"),
    RuntimeError("bug"),
])
def test_bugs_keep_their_traceback(exc: BaseException) -> None:
    assert explain(exc, SETTINGS) is None


def test_postgres_failure_names_the_host_not_the_password() -> None:
    import psycopg

    line = explain(psycopg.OperationalError("connection failed: connection refused"), SETTINGS)
    assert line is not None and "db:5432/careerbot" in line and "pw-secret-1" not in line
    assert explain(psycopg.errors.UndefinedColumn("column x does not exist"), SETTINGS) is None


def test_data_and_knowledge_folders_are_checked(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OperatorError, match="is a file"):
        prepare_data_dir(tmp_path / "file")
    prepare_data_dir(tmp_path / "new" / "data")
    assert (tmp_path / "new" / "data").is_dir() and not list((tmp_path / "new" / "data").iterdir())
    with pytest.raises(OperatorError, match="no articles"):
        check_knowledge_dir(tmp_path)
