"""The command-line contract: JSON shapes, exit codes, end of input.

Most tests call `main()` in-process (see `InProcess`) with the session's loaded knowledge base; a
few run `careerbot` as a real process: one smoke test of a whole start-up (`ask --json`), the
terminal chat ending at end of input, and the stdin byte path.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.cli import main
from bot.config import Settings
from bot.messages import Inbound, Reply
from bot.runtime import Knowledge
from bot.store import open_store

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


def test_ask_plain_cites_sources_by_title(cli: InProcess) -> None:
    out = cli.proc("ask", "Should I become an AI engineer if I hate math?")
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout and "[1]" in out.stdout
    assert "Traceback" not in out.stderr


def test_assess_and_plan_json(cli: InProcess) -> None:
    out = cli.proc("assess", "I love linear algebra and want to train models from scratch.", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["label"] == "ml_engineer"
    assert set(data["scores"]) == {"ai_engineer", "ml_engineer", "neither"} and data["explanation"]
    out = cli.proc("plan", "I want to become an AI engineer", "--json")
    plan = json.loads(out.stdout)
    assert plan["plan"]["track"] == "ai_engineer" and plan["sources"]


def test_quiz_answer_sheet_and_piped_quiz(cli: InProcess) -> None:
    out = cli.proc("quiz", "--answers", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"label", "scores", "explanation", "chart"}
    assert data["label"] in {"ai_engineer", "ml_engineer", "neither", "either"}
    assert Path(data["chart"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    piped = cli.proc("quiz", stdin="1\n" * 40)
    assert piped.returncode == 0, piped.stderr
    bad = cli.proc("quiz", "--answers", "9,9,x", "--json")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_eval_json_shapes(cli: InProcess) -> None:
    out = cli.proc("eval", "retrieval", "--golden", str(DATA / "golden_dev.jsonl"), "--json")
    assert set(json.loads(out.stdout)) == {"n", "k", "recall_at_k", "mrr"}
    out = cli.proc("eval", "fit", "--personas", str(DATA / "personas_dev.jsonl"), "--json")
    data = json.loads(out.stdout)
    assert set(data) == {"n", "accuracy", "macro_f1", "per_label"}
    assert set(data["per_label"]["neither"]) == {"precision", "recall"}


def test_index_build_with_sources_and_out(cli: InProcess, tmp_path: Path) -> None:
    src = tmp_path / "notes"
    src.mkdir()
    (src / "a.md").write_text("# Notes\n\nFAISS stores vectors for similarity search.\n")
    out = cli.proc("index", "build", "--source", str(src), "--out", str(tmp_path / "idx"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "idx" / "manifest.json").exists() and "indexed 1 chunks" in out.stdout
    missing = cli.proc("index", "build", "--source", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr


def test_run_without_tokens_and_without_a_terminal_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    """A container with no tokens must stop and say why, not chat with an empty stdin and exit 0."""
    out = careerbot(env, "run", stdin="hello\n")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "careerbot: nothing to run: no Slack or Discord tokens are configured (environment or ./.env) "
        "and stdin is not a terminal for the chat"]
    chat = careerbot(env, "run", "console", stdin="hello\n/quiz\n1\n")  # asked for by name: the chat
    assert chat.returncode == 0, chat.stderr
    assert "careerbot" in chat.stdout and "Question 1" in chat.stdout
    assert careerbot(env, "chat", stdin="").returncode == 0


def test_bad_configuration_is_one_line_not_a_traceback(cli: InProcess) -> None:
    cli.monkeypatch.setenv("DISCORD_SHARD_COUNT", "lots")
    out = cli.proc("ask", "hi")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "careerbot: configuration error: DISCORD_SHARD_COUNT must be a whole number, got 'lots'"]


@pytest.mark.parametrize(("args", "variable"), [(["run", "slack"], "SLACK_BOT_TOKEN"),
                                                (["run", "discord"], "DISCORD_TOKEN")])
def test_run_a_platform_without_its_token_says_which(cli: InProcess, args: list[str], variable: str) -> None:
    out = cli.proc(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and "Traceback" not in out.stderr


# --- second round: streams, one-shot text, answer-level eval ---------------------------------------
#
# These call `main()` in-process with the session's already loaded knowledge base (a real process
# spends seconds loading the model). `Knowledge.load` is counted to prove each command loads it once,
# and `Brain.handle` is spied on to see which conversation every message went to.


class InProcess:
    """`careerbot` run in this process: `run(*argv, stdin=b"...")` -> (status, stdout, stderr)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys
        self.loads = 0
        self.seen: list[Inbound] = []

    def run(self, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        status = main(list(argv))
        out, err = self.capsys.readouterr()
        return status, out, err

    def proc(self, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """`run`, shaped like `subprocess.run`'s result, for tests written against a real process."""
        status, out, err = self.run(*argv, stdin=stdin.encode())
        return subprocess.CompletedProcess(list(argv), status, out, err)


@pytest.fixture
def cli(base_settings: Settings, knowledge: Knowledge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> InProcess:
    for name in list(os.environ):
        if name.startswith(("CAREERBOT_", "SLACK_", "DISCORD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAREERBOT_INDEX_DIR", str(base_settings.index_dir))
    monkeypatch.setenv("CAREERBOT_LOG_LEVEL", "WARNING")
    harness = InProcess(monkeypatch, capsys)

    def load(cls: type[Knowledge], settings: Settings, **kwargs: object) -> Knowledge:
        harness.loads += 1
        return knowledge

    original_handle = Brain.handle

    async def spy(self: Brain, inbound: Inbound) -> Reply:
        harness.seen.append(inbound)
        return await original_handle(self, inbound)

    monkeypatch.setattr(Knowledge, "load", classmethod(load))
    monkeypatch.setattr(Brain, "handle", spy)
    return harness


def test_ask_file_answers_each_line_in_a_fresh_conversation(cli: InProcess, tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("What does an AI engineer do?\n\n   \nHow much math does an ML engineer need?\n")
    status, out, err = cli.run("ask", "--json", "--file", str(questions))
    assert status == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == 2
    for answer in answers:
        assert {"text", "intent", "sources"} <= set(answer) and answer["text"]
        assert all(set(s) == {"title", "url", "snippet"} for s in answer["sources"])
    assert [i.text for i in cli.seen] == ["What does an AI engineer do?", "How much math does an ML engineer need?"]
    assert len({i.conversation_key for i in cli.seen}) == 2 and len({i.user_key for i in cli.seen}) == 2
    assert cli.loads == 1


def test_chat_json_is_one_conversation_with_a_reply_per_line(cli: InProcess, tmp_path: Path) -> None:
    status, out, err = cli.run("chat", "--json", stdin=b"What does an AI engineer do?\nand what about the pay?\n")
    assert status == 0, err
    replies = [json.loads(line) for line in out.splitlines()]
    assert len(replies) == 2 and all({"text", "intent", "sources"} <= set(r) and r["text"] for r in replies)
    first, follow_up = cli.seen
    assert first.conversation_key == follow_up.conversation_key and first.user_key == follow_up.user_key
    assert cli.loads == 1
    store = open_store(f"sqlite:///{tmp_path / 'careerbot.sqlite3'}")
    try:  # the follow-up was recorded in the same conversation as the first question
        turns = [t.text for t in store.recent_turns(first.conversation_key, 10) if t.role == "user"]
    finally:
        store.close()
    assert turns == ["What does an AI engineer do?", "and what about the pay?"]


def test_one_shot_ask_and_plan_text_print_no_buttons(cli: InProcess) -> None:
    status, out, err = cli.run("ask", "Should I become an AI engineer if I hate math?")
    assert status == 0, err
    assert "Sources:" in out and "[1]" in out
    assert "Helpful" not in out and "Not helpful" not in out and "Share" not in out
    status, out, err = cli.run("plan", "I want to become an AI engineer")
    assert status == 0, err
    assert out.strip() and "Helpful" not in out


def test_ask_file_with_invalid_utf8_reports_the_line_and_goes_on(cli: InProcess, tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_bytes(b"What does an AI engineer do?\nwhat about caf\xe9 jobs?\nHow much math does an ML engineer need?\n")
    status, out, err = cli.run("ask", "--json", "--file", str(questions))
    assert status == 1
    first, error, third = (json.loads(line) for line in out.splitlines())
    assert first["text"] and third["text"]
    assert error == {"error": "line 2: not valid UTF-8 (byte 0xe9 at position 15)", "line": 2}
    assert err.strip().splitlines() == [f"careerbot: {questions}:2: not valid UTF-8 (byte 0xe9 at position 15); skipped"]
    assert "Traceback" not in err and len(cli.seen) == 2


def test_ask_file_usage_errors_are_one_line_before_loading(cli: InProcess, tmp_path: Path) -> None:
    status, _, err = cli.run("ask", "--file", str(tmp_path / "nope.txt"))
    assert status == 2 and err.strip().splitlines() == [f"careerbot: error: --file {tmp_path / 'nope.txt'}: no such file"]
    status, _, err = cli.run("ask", "hello", "--file", str(tmp_path / "nope.txt"))
    assert status == 2 and len(err.strip().splitlines()) == 1
    status, _, err = cli.run("ask")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert cli.loads == 0


def test_eval_answers_and_conversations_run_through_the_brain(cli: InProcess, tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(row) for row in [
        {"question": "Is AI engineering more like building the engine or the car?", "facts": [["car"]]},
        {"question": "What is the best recipe for banana bread?", "facts": [], "in_scope": False},
    ]) + "\n")
    status, out, err = cli.run("eval", "answers", "--set", str(answers), "--json")
    assert status == 0, err
    result = json.loads(out)
    assert {"n", "facts_rate", "refused", "redirected", "n_out_of_scope", "median_words", "misses"} <= set(result)
    assert result["n"] == 2 and result["n_out_of_scope"] == 1 and result["median_words"] > 0
    assert len({i.user for i in cli.seen}) == 0  # eval calls Brain.respond directly, not handle

    scripts = tmp_path / "scripts.jsonl"
    scripts.write_text(json.dumps({"id": "pay", "turns": [
        {"text": "What does an AI engineer do?", "facts": [["model"]]},
        {"text": "and what about the pay?", "facts": [["salar", "pay", "$"]], "uses": "role"}]}) + "\n")
    status, out, err = cli.run("eval", "conversations", "--set", str(scripts), "--json")
    assert status == 0, err
    result = json.loads(out)
    assert result["n_scripts"] == 1 and result["n_turns"] == 2 and result["context_turns"] == 1
    assert 0.0 <= result["context_kept"] <= 1.0 and isinstance(result["misses"], list)
    status, out, err = cli.run("eval", "answers", "--set", str(answers))
    assert status == 0 and out.startswith("n=2 facts_rate=")
    assert not (tmp_path / "careerbot.sqlite3").exists()  # evaluation leaves the operator's database alone


def test_chat_json_as_a_real_process_reads_stdin_bytes(env: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--json"], env=env, capture_output=True,
                         input=b"What does an AI engineer do?\n\xff\xfe\nand what about the pay?\n", timeout=240)
    assert out.returncode == 1, out.stderr.decode(errors="replace")
    lines = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [set(line) >= {"text", "intent", "sources"} for line in lines] == [True, False, True]
    assert lines[1]["line"] == 2 and "not valid UTF-8" in lines[1]["error"]
    assert b"Traceback" not in out.stderr


def test_bench_reports_the_floor_the_ratio_and_what_it_shed(cli: InProcess) -> None:
    """A tiny open-loop run: every message is either answered (and timed) or shed as busy, never lost."""
    status, out, err = cli.run("bench", "--messages", "30", "--rate", "300", "--concurrency", "2", "--json")
    assert status == 0, err
    data = json.loads(out)
    assert data["answered"] + data["shed"] == 30 and data["answered"] > 0
    assert set(data["latency_ms"]) == {"p50", "p95", "p99", "max"} and data["floor_ms"]["p50"] > 0
    assert data["ratio_to_floor_p50"] == round(data["latency_ms"]["p50"] / data["floor_ms"]["p50"], 2)
