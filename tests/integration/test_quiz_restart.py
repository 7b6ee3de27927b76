"""A process killed mid-quiz: a new process on the same database resumes at the same question."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.messages import Inbound, Kind
from bot.quiz import QuizEngine
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]

# Answers five questions through buttons, prints the last question's buttons, then dies hard.
FIRST_PROCESS = """
import json, os, sys
from bot.messages import Inbound, Kind
from bot.quiz import QuizEngine
from bot.store.sqlite import SqliteStore
engine = QuizEngine(SqliteStore(sys.argv[1]), sys.argv[2])
reply = engine.handle_command(Inbound("discord", "42", "C", kind=Kind.COMMAND, command="quiz"))
for _ in range(5):
    reply = engine.handle_action(Inbound("discord", "42", "C", kind=Kind.ACTION, action=reply.buttons[0][1].value))
print(json.dumps({"text": reply.text, "buttons": [[b.value for b in row] for row in reply.buttons]}), flush=True)
os._exit(0)
"""


def test_resume_after_a_killed_process(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PROCESS, str(db), str(ROOT / "knowledge" / "quiz.yaml")],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    ).stdout  # fmt: skip
    before = json.loads(out)
    assert "Question 6 of 15" in before["text"]

    store = SqliteStore(db)
    try:
        engine = QuizEngine(store, ROOT / "knowledge" / "quiz.yaml")
        resumed = engine.handle_command(Inbound("discord", "42", "C", kind=Kind.COMMAND, command="quiz"))
        assert "Question 6 of 15" in resumed.text and "Welcome back" in resumed.text
        # The buttons the dead process sent are still valid in the new one.
        nxt = engine.handle_action(Inbound("discord", "42", "C", kind=Kind.ACTION, action=before["buttons"][0][0]))
        assert "Question 7 of 15" in nxt.text
        assert store.load_quiz("discord:42")["answers"][:6] == [1, 1, 1, 1, 1, 0]
    finally:
        store.close()
