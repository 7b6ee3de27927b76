"""`careerbot report feedback|usage` and `careerbot run web` / `run` with CAREERBOT_WEB_PORT."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from web_support import ADMIN_TOKEN

from bot.cli import main
from bot.config import Settings
from bot.runtime import Knowledge
from bot.store import AnswerRecord, open_store
from bot.store.base import UsageRecord


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment whose store is this test's SQLite file, with one voted answer and one gap."""
    for name in list(os.environ):
        if name.startswith(("CAREERBOT_", "SLACK_", "DISCORD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    store = open_store(f"sqlite:///{tmp_path / 'careerbot.sqlite3'}")
    now = time.time()
    store.save_answer(AnswerRecord("a1", "slack:U1", "c1", "is ML engineering for me?", "Maybe, if you like math.",
                                   [], now))
    store.record_usage(UsageRecord("slack", "mention", "assess", "slack:U1", now, answer_id="a1"))
    store.record_usage(UsageRecord("discord", "dm", "out_of_scope", "discord:U2", now, question="how to bake bread?"))
    store.record_feedback("a1", "slack:U2", False)
    store.save_quiz_result("slack:U1", {"label": "ml_engineer"})
    store.close()
    return tmp_path


def test_report_feedback_text_and_csv(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "feedback"]) == 0
    out = capsys.readouterr().out
    assert "1 answers with votes: 0 helpful, 1 not helpful" in out and "is ML engineering for me?" in out
    assert main(["report", "feedback", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == [{"answer_id": "a1", "created_utc": rows[0]["created_utc"], "platform": "slack", "intent": "assess",
                     "helpful": "0", "not_helpful": "1", "question": "is ML engineering for me?",
                     "answer": "Maybe, if you like math."}]


def test_report_usage_text_and_csv(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "usage", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "(7 days, UTC): 2" in out and "By platform: " in out and "how to bake bread?" in out
    assert "Quiz verdicts: ml_engineer 1" in out
    assert main(["report", "usage", "--csv"]) == 0
    kinds = {row["kind"] for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert kinds == {"replies", "out_of_scope", "quiz_verdict"}


def test_report_bad_arguments_are_one_line(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "usage", "--days", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--days 0" in err
    assert main(["run", "web", "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
    assert main(["run", "slack", "--port", "8080"]) == 2
    assert "--port is for the web app" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.slow
def test_run_serves_the_web_app(base_settings: Settings, knowledge: Knowledge, tmp_path: Path) -> None:
    """`run web --port` and plain `run` with CAREERBOT_WEB_PORT (no chat adapter), as real processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERBOT_", "SLACK_", "DISCORD_"))}
    env |= {"CAREERBOT_INDEX_DIR": str(base_settings.index_dir), "CAREERBOT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    web_port, env_port = _free_port(), _free_port()
    procs = {
        web_port: subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "web", "--port", str(web_port)],
                                   env=env | {"CAREERBOT_DATA_DIR": str(tmp_path / "a"),
                                              "CAREERBOT_ADMIN_TOKEN": ADMIN_TOKEN},
                                   stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path),
        env_port: subprocess.Popen([sys.executable, "-m", "bot.cli", "run"],
                                   env=env | {"CAREERBOT_DATA_DIR": str(tmp_path / "b"),
                                              "CAREERBOT_WEB_PORT": str(env_port)},
                                   stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path),
    }
    try:
        deadline = time.monotonic() + 300
        pending = set(procs)
        while pending and time.monotonic() < deadline:
            for port in list(pending):
                assert procs[port].poll() is None, procs[port].stderr.read().decode()[-2000:]  # type: ignore[union-attr]
                try:
                    status, body = _get(f"http://127.0.0.1:{port}/")
                except OSError:
                    continue
                assert status == 200 and "Ask careerbot" in body
                pending.discard(port)
            time.sleep(0.5)
        assert not pending, f"no web app on {pending} after 300 s"
        assert _get(f"http://127.0.0.1:{web_port}/admin")[0] == 401  # token set: sign-in first
        assert _get(f"http://127.0.0.1:{web_port}/admin", {"Authorization": f"Bearer {ADMIN_TOKEN}"})[0] == 200
        assert _get(f"http://127.0.0.1:{env_port}/admin")[0] == 404  # no token: the dashboard is off
    finally:
        for proc in procs.values():
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
