"""The command-line contract, run as a real process: JSON shapes, exit codes, end of input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.runtime import Knowledge

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "eval" / "data"


@pytest.fixture
def env(base_settings: Settings, knowledge: Knowledge, tmp_path: Path) -> dict[str, str]:
    """A clean environment on this test's data dir, reusing the session's already built index."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERBOT_", "SLACK_", "DISCORD_"))}
    return keep | {"CAREERBOT_DATA_DIR": str(tmp_path), "CAREERBOT_INDEX_DIR": str(base_settings.index_dir),
                   "CAREERBOT_LOG_LEVEL": "WARNING"}


def careerbot(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=240, cwd=cwd)


def test_ask_json(env: dict[str, str]) -> None:
    out = careerbot(env, "ask", "Is AI engineering more like building the engine or the car?", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"text", "intent", "sources"} and data["intent"] == "question"
    assert '"car' in data["text"] or "car" in data["text"]
    assert data["sources"] and set(data["sources"][0]) == {"title", "url", "snippet"}


def test_ask_plain_cites_sources_by_title(env: dict[str, str]) -> None:
    out = careerbot(env, "ask", "Should I become an AI engineer if I hate math?")
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout and "[1]" in out.stdout
    assert "Traceback" not in out.stderr


def test_assess_and_plan_json(env: dict[str, str]) -> None:
    out = careerbot(env, "assess", "I love linear algebra and want to train models from scratch.", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["label"] == "ml_engineer"
    assert set(data["scores"]) == {"ai_engineer", "ml_engineer", "neither"} and data["explanation"]
    out = careerbot(env, "plan", "I want to become an AI engineer", "--json")
    plan = json.loads(out.stdout)
    assert plan["plan"]["track"] == "ai_engineer" and plan["sources"]


def test_quiz_answer_sheet_and_piped_quiz(env: dict[str, str]) -> None:
    out = careerbot(env, "quiz", "--answers", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"label", "scores", "explanation", "chart"}
    assert data["label"] in {"ai_engineer", "ml_engineer", "neither", "either"}
    assert Path(data["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    piped = careerbot(env, "quiz", stdin="1\n" * 40)
    assert piped.returncode == 0, piped.stderr
    bad = careerbot(env, "quiz", "--answers", "9,9,x", "--json")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_eval_json_shapes(env: dict[str, str]) -> None:
    out = careerbot(env, "eval", "retrieval", "--golden", str(DATA / "golden_dev.jsonl"), "--json")
    assert set(json.loads(out.stdout)) == {"n", "k", "recall_at_k", "mrr"}
    out = careerbot(env, "eval", "fit", "--personas", str(DATA / "personas_dev.jsonl"), "--json")
    data = json.loads(out.stdout)
    assert set(data) == {"n", "accuracy", "macro_f1", "per_label"}
    assert set(data["per_label"]["neither"]) == {"precision", "recall"}


def test_index_build_with_sources_and_out(env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "notes"
    src.mkdir()
    (src / "a.md").write_text("# Notes\n\nFAISS stores vectors for similarity search.\n")
    out = careerbot(env, "index", "build", "--source", str(src), "--out", str(tmp_path / "idx"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "idx" / "manifest.json").exists() and "indexed 1 chunks" in out.stdout
    missing = careerbot(env, "index", "build", "--source", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr


def test_run_without_tokens_is_the_terminal_chat_and_ends_at_eof(env: dict[str, str]) -> None:
    out = careerbot(env, "run", stdin="hello\n/quiz\n1\n")
    assert out.returncode == 0, out.stderr
    assert "careerbot" in out.stdout and "Question 1" in out.stdout
    empty = careerbot(env, "run", stdin="")
    assert empty.returncode == 0


def test_bad_configuration_is_one_line_not_a_traceback(env: dict[str, str]) -> None:
    out = careerbot(env | {"DISCORD_SHARD_COUNT": "lots"}, "ask", "hi")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "careerbot: configuration error: DISCORD_SHARD_COUNT must be a whole number, got 'lots'"]


@pytest.mark.parametrize(("args", "variable"), [(["run", "slack"], "SLACK_BOT_TOKEN"),
                                                (["run", "discord"], "DISCORD_TOKEN")])
def test_run_a_platform_without_its_token_says_which(env: dict[str, str], args: list[str], variable: str) -> None:
    out = careerbot(env, *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and "Traceback" not in out.stderr
