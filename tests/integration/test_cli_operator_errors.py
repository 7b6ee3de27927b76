"""Operator errors through the real `careerbot` process: one line on stderr, exit status 2, no traceback.

Read-only and full disks are real mounts (a read-only bind mount, a tiny tmpfs) because the tests
run as root, for whom permission bits change nothing; those tests skip where mounting is refused.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mounts import fill, read_only_folder, small_disk

from bot.config import Settings
from bot.runtime import Knowledge


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("CAREERBOT_", "SLACK_", "DISCORD_", "OPENAI_", "ANTHROPIC_"))}
    return keep | {"CAREERBOT_DATA_DIR": str(tmp_path / "data"), "CAREERBOT_INDEX_DIR": str(tmp_path / "index"),
                   "CAREERBOT_LOG_LEVEL": "WARNING"} | extra


def careerbot(env: dict[str, str], *args: str | bytes, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True,
                          errors="replace", timeout=timeout, stdin=subprocess.DEVNULL,
                          cwd=Path(__file__).resolve().parents[2])


def one_line_exit_2(out: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == code, (out.returncode, out.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("careerbot: "), out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_data_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    one_line_exit_2(careerbot(_clean_env(tmp_path), "ask", "hello"), "CAREERBOT_DATA_DIR", "is a file")


def test_missing_knowledge_folder(tmp_path: Path) -> None:
    env = _clean_env(tmp_path, CAREERBOT_KNOWLEDGE_DIR=str(tmp_path / "nowhere"))
    one_line_exit_2(careerbot(env, "ask", "hello"), "CAREERBOT_KNOWLEDGE_DIR", "does not exist")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0"])
def test_llm_timeout_must_be_finite_and_positive(tmp_path: Path, value: str) -> None:
    env = _clean_env(tmp_path, CAREERBOT_LLM_TIMEOUT=value)
    one_line_exit_2(careerbot(env, "ask", "hello"), "CAREERBOT_LLM_TIMEOUT")


@pytest.mark.parametrize("command", ["ask", "assess", "plan"])
def test_text_argument_that_is_not_utf8(tmp_path: Path, command: str) -> None:
    out = careerbot(_clean_env(tmp_path), command, b"what does an AI engineer do\xff\xfe?")
    one_line_exit_2(out, "TEXT", "UTF-8")


def test_unreachable_postgres_names_the_variable_not_the_password(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _clean_env(tmp_path, CAREERBOT_DATABASE_URL=f"postgresql://bot:hunter2-secret@127.0.0.1:{port}/careerbot")
    line = one_line_exit_2(careerbot(env, "ask", "hello"), "CAREERBOT_DATABASE_URL", "PostgreSQL")
    assert "hunter2-secret" not in line


def test_damaged_sqlite_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "careerbot.sqlite3").write_bytes(b"this is not a database" * 100)
    one_line_exit_2(careerbot(_clean_env(tmp_path), "ask", "hello"), "SQLite", "careerbot.sqlite3")


def test_read_only_data_folder(tmp_path: Path) -> None:
    with read_only_folder(tmp_path) as folder:
        env = _clean_env(tmp_path, CAREERBOT_DATA_DIR=str(folder))
        one_line_exit_2(careerbot(env, "ask", "hello"), "read-only", "CAREERBOT_DATA_DIR")
        one_line_exit_2(careerbot(env, "quiz", "--answers", "1,1,1"), "read-only")


def test_full_data_folder_at_start(tmp_path: Path) -> None:
    with small_disk(tmp_path, "1m") as disk:
        fill(disk)
        env = _clean_env(tmp_path, CAREERBOT_DATA_DIR=str(disk))
        one_line_exit_2(careerbot(env, "ask", "hello"), "no space left")


@pytest.mark.slow
def test_unreachable_discord_api(tmp_path: Path, base_settings: Settings, knowledge: Knowledge) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _clean_env(tmp_path, CAREERBOT_INDEX_DIR=str(base_settings.index_dir), DISCORD_TOKEN="a-bot-token-value",
                     DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}/api", DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}")
    # `run` checks each token over the network before loading anything: unreachable is exit 4
    # (documented beside `careerbot check`), which a restart may cure, unlike a configuration error.
    line = one_line_exit_2(careerbot(env, "run", "discord"), "discord", "cannot connect", f"127.0.0.1:{port}", code=4)
    assert "a-bot-token-value" not in line


@pytest.mark.slow
def test_unreachable_slack_api_is_not_called_a_rejected_token(tmp_path: Path, base_settings: Settings,
                                                              knowledge: Knowledge) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _clean_env(tmp_path, CAREERBOT_INDEX_DIR=str(base_settings.index_dir), SLACK_BOT_TOKEN="xoxb-1-2-value",
                     SLACK_SIGNING_SECRET="signing-secret-value", SLACK_API_BASE_URL=f"http://127.0.0.1:{port}/api")
    line = one_line_exit_2(careerbot(env, "run", "slack", "--http", "0"), "slack", "cannot connect", f"127.0.0.1:{port}",
                           code=4)
    assert "refused" not in line.split(":", 2)[-1].split("(")[0] and "xoxb-1-2-value" not in line
