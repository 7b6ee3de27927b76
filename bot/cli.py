"""`careerbot`: the command-line entry point (see the contract in docs/ARCHITECTURE.md).

This is the only place that loads `.env` and reads the environment (through `Settings.from_env`).
Errors an operator can fix (a bad variable, a missing folder, a malformed file) print one line and
exit with status 2; they never print a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="careerbot", description="Career advice: AI engineer, ML engineer, or neither.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start every configured adapter (terminal chat when none)")
    run.add_argument("platform", nargs="?", choices=["slack", "discord", "console", "web"])
    run.add_argument("--http", type=int, metavar="PORT", help="Slack HTTP mode on PORT (events at /slack/events)")
    run.add_argument("--port", type=int, metavar="PORT",
                     help="web playground and admin on PORT (run web; default CAREERBOT_WEB_PORT or 8080)")

    chat = sub.add_parser("chat", help="terminal chat with the bot")
    chat.add_argument("--json", action="store_true",
                      help="stdin lines are one conversation; one JSON object per reply on stdout")
    ask = sub.add_parser("ask", help="one answer (or one per line of --file)")
    ask.add_argument("text", nargs="?")
    ask.add_argument("--file", metavar="FILE",
                     help="one question per line (- for stdin), each in a fresh conversation")
    ask.add_argument("--json", action="store_true")
    for name, helptext in (("assess", "fit assessment of a profile"), ("plan", "learning plan for a profile or goal")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("text")
        sp.add_argument("--json", action="store_true")

    quiz = sub.add_parser("quiz", help="the fit quiz (one option number per line on stdin)")
    quiz.add_argument("--answers", help="score a whole sheet, e.g. 1,3,2,... (0 or empty = skipped)")
    quiz.add_argument("--json", action="store_true")

    index = sub.add_parser("index", help="knowledge index")
    isub = index.add_subparsers(dest="index_command", required=True)
    build = isub.add_parser("build", help="build the index")
    build.add_argument("--source", action="append", type=Path, help="folder to index (repeatable)")
    build.add_argument("--out", type=Path, help="write the index here instead of the index dir")
    isub.add_parser("status", help="is the index fresh?")

    ev = sub.add_parser("eval", help="quality gates")
    esub = ev.add_subparsers(dest="eval_command", required=True)
    er = esub.add_parser("retrieval")
    er.add_argument("--golden", type=Path, required=True)
    er.add_argument("--index", type=Path)
    er.add_argument("--k", type=int, default=5)
    er.add_argument("--json", action="store_true")
    ef = esub.add_parser("fit")
    ef.add_argument("--personas", type=Path, required=True)
    ef.add_argument("--json", action="store_true")
    ea = esub.add_parser("answers", help="does the whole brain's reply state the facts? (JSON lines set)")
    ea.add_argument("--set", type=Path, required=True, dest="set_file", metavar="FILE")
    ea.add_argument("--json", action="store_true")
    ec = esub.add_parser("conversations", help="do follow-ups keep their context? (JSON lines scripts)")
    ec.add_argument("--set", type=Path, required=True, dest="set_file", metavar="FILE")
    ec.add_argument("--json", action="store_true")

    report = sub.add_parser("report", help="feedback and usage figures from the store (as on the admin dashboard)")
    rsub = report.add_subparsers(dest="report_command", required=True)
    rf = rsub.add_parser("feedback", help="votes per answer with the question, worst-rated first")
    rf.add_argument("--csv", action="store_true", help="CSV on stdout instead of text")
    rf.add_argument("--limit", type=int, default=100, help="at most this many answers (default 100)")
    ru = rsub.add_parser("usage", help="replies by day, platform and intent; out-of-scope questions; quiz verdicts")
    ru.add_argument("--csv", action="store_true", help="CSV on stdout instead of text")
    ru.add_argument("--days", type=int, default=30, help="the last N days, today included (default 30)")

    bench = sub.add_parser("bench", help="latency/throughput benchmark of the brain (no LLM)")
    bench.add_argument("--messages", type=int, default=2000)
    bench.add_argument("--concurrency", type=int, default=32)
    bench.add_argument("--rate", type=float, default=140.0, help="target arrival rate, messages per second")
    bench.add_argument("--json", action="store_true")
    return p


class UsageError(Exception):
    """An operator-fixable problem; printed as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    undecodable = _undecodable_argument(args)
    if undecodable:
        print(f"careerbot: error: {undecodable} is not valid UTF-8 text", file=sys.stderr)
        return 2
    from dotenv import load_dotenv

    load_dotenv()
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"careerbot: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings)
    from bot.operator_errors import explain
    from knowledge.onnx_model import ModelUnavailable

    try:
        return _dispatch(args, settings)
    except (ConfigError, UsageError, FileNotFoundError, ValueError, ModelUnavailable) as exc:
        return _operator_error(str(exc), settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Disk, database and network failures an operator can fix: one line. Anything else is a
        # bug and keeps its traceback.
        line = explain(exc, settings)
        if line is None:
            raise
        return _operator_error(line, settings)


def _operator_error(line: str, settings: Any) -> int:
    from bot.log_privacy import secrets_of

    for secret in secrets_of(settings):
        line = line.replace(secret, "[redacted]")
    print(f"careerbot: error: {' '.join(line.split())}", file=sys.stderr)
    return 2


def _undecodable_argument(args: argparse.Namespace) -> str | None:
    """The name of a text argument that held bytes which are not UTF-8, if any.

    Python hands such bytes over as lone surrogates; they would reach the tokenizer and fail there
    with a traceback, so they are refused here with a name the operator recognises.
    """
    for name in ("text", "answers"):  # (a file *name* may be any bytes; Path keeps them)
        value = getattr(args, name, None)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "TEXT" if name == "text" else f"--{name}"
    return None


def _configure_logging(settings: Any) -> None:
    from bot.log_privacy import install_log_privacy

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Third-party loggers capped (they log payloads at DEBUG), secrets redacted on every handler.
    install_log_privacy(settings)


def _dispatch(args: argparse.Namespace, settings: Any) -> int:
    command = args.command
    if command == "index":
        return _index(args, settings)
    if command == "eval":
        return _eval(args, settings)
    if command == "bench":
        from bot.bench import run_bench

        result = run_bench(settings, messages=args.messages, concurrency=args.concurrency, rate=args.rate)
        print(json.dumps(result, indent=2) if args.json else result["summary"])
        return 0
    if command == "quiz":
        return _quiz(args, settings)
    if command == "report":
        return _report(args, settings)
    if command == "run" and args.port is not None:
        if args.platform not in (None, "web"):
            raise UsageError(f"--port is for the web app (run web --port PORT); run {args.platform} does not use it")
        if not 0 < args.port < 65536:
            raise UsageError(f"--port {args.port}: must be between 1 and 65535")
    questions: list[bytes] | None = None
    if command == "ask":
        if (args.text is None) == (args.file is None):
            raise UsageError("ask: give the question as TEXT or --file FILE (one of them)")
        if args.file is not None:
            questions = _read_lines(args.file)  # a missing file fails now, not after loading the model

    if command == "run" and args.platform == "slack":
        from adapters.slack.runner import check_settings

        check_settings(settings, http=args.http is not None)  # fail in a second, not after loading
    if command == "run" and args.platform == "discord":
        from adapters.discord.client import check_settings as check_discord

        check_discord(settings)
    from bot.operator_errors import check_knowledge_dir, prepare_data_dir
    from bot.runtime import Runtime

    prepare_data_dir(settings.data_dir)  # one line now, not a traceback after loading the model
    check_knowledge_dir(settings.knowledge_dir)
    logging.getLogger("careerbot").debug("settings: %s", settings.describe())  # secrets show as set/unset
    runtime = Runtime.create(settings)
    try:
        if command == "chat" and args.json:
            from adapters.console import run_json_chat

            # Bytes, decoded line by line: one stray byte must not end the conversation.
            return run_json_chat(runtime.brain, _stdin_lines(), sys.stdout)
        if command in ("chat",) or (command == "run" and _wants_console(args, settings)):
            from adapters.console import run_chat

            return run_chat(runtime.brain, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
        if command == "run":
            return asyncio.run(_run_adapters(args, runtime))
        if questions is not None:
            return _ask_many(args, runtime, questions)
        return _one_shot(args, runtime)
    finally:
        runtime.close()


def _wants_console(args: argparse.Namespace, settings: Any) -> bool:
    if args.platform == "console":
        return True
    if args.platform is None:
        return not (settings.slack_enabled or settings.discord_enabled or settings.web_port)
    return False


async def _run_adapters(args: argparse.Namespace, runtime: Any) -> int:
    settings = runtime.settings
    tasks = []
    if args.platform in (None, "slack") and (settings.slack_enabled or args.platform == "slack"):
        from adapters.slack import run_slack

        tasks.append(run_slack(settings, runtime.brain, runtime.store, http_port=args.http))
    if args.platform in (None, "discord") and (settings.discord_enabled or args.platform == "discord"):
        from adapters.discord import run_discord

        tasks.append(run_discord(settings, runtime.brain, runtime.store))
    if args.platform == "web" or (args.platform is None and settings.web_port):
        from adapters.web import run_web

        port = args.port or settings.web_port or 8080
        tasks.append(run_web(settings, runtime.brain, runtime.store, runtime.knowledge, port=port))
    try:
        await asyncio.gather(*tasks)
    finally:
        aclose = getattr(runtime.brain.agent, "aclose", None)
        if aclose is not None:
            await aclose()
    return 0


def _one_shot(args: argparse.Namespace, runtime: Any) -> int:
    """`ask`, `assess`, `plan` for one text. Text mode prints no buttons: nobody is left to press them."""
    from adapters.console import json_payload, render_reply, source_dict
    from bot.messages import Inbound, Kind

    brain = runtime.brain
    if args.command == "ask":
        # A fresh conversation per invocation: a one-shot question must not be read as a follow-up
        # to whatever an earlier `careerbot ask` on this machine asked.
        reply = asyncio.run(brain.handle(Inbound("console", _fresh_user("cli"), "cli", args.text, Kind.DM)))
        payload = json_payload(reply)
    elif args.command == "assess":
        from bot.sanitize import clean

        fit = runtime.knowledge.services.assess(clean(args.text).text)
        payload = fit.as_dict()
        reply = None
    else:  # plan
        reply = asyncio.run(brain.handle(Inbound("console", _fresh_user("cli"), "cli", args.text, Kind.COMMAND,
                                                 command="plan")))
        payload = {"text": reply.text, "intent": reply.intent, "plan": reply.data.get("plan"),
                   "sources": [source_dict(s) for s in reply.sources]}
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif reply is None:
        print(payload["explanation"])
    else:
        print(render_reply(reply, buttons=False))
    return 0


def _ask_many(args: argparse.Namespace, runtime: Any, lines: list[bytes]) -> int:
    """`ask --file`: every non-blank line answered in its own fresh conversation, model loaded once.

    With --json, stdout holds one JSON object per non-blank line, in order; a line that is not valid
    UTF-8 gets {"error", "line"} there (and one line on stderr) so the output stays aligned with the
    input. Exit status 1 when some line was skipped, else 0.
    """
    from adapters.console import decode_line, json_payload, render_reply
    from bot.messages import Inbound, Kind

    run = _fresh_user("cli")
    status = 0
    with asyncio.Runner() as runner:  # one loop: an LLM agent's clients live on it
        for number, raw in enumerate(lines, 1):
            try:
                text = decode_line(raw).strip()
            except ValueError as exc:
                status = 1
                print(f"careerbot: {args.file}:{number}: {exc}; skipped", file=sys.stderr)
                if args.json:
                    print(json.dumps({"error": f"line {number}: {exc}", "line": number}), flush=True)
                continue
            if not text:
                continue
            inbound = Inbound("console", f"{run}-{number}", "cli", text, Kind.DM)
            reply = runner.run(runtime.brain.handle(inbound))
            if args.json:
                print(json.dumps(json_payload(reply), ensure_ascii=False), flush=True)
            else:
                print(f"> {text}\n\n{render_reply(reply, buttons=False)}\n", flush=True)
        aclose = getattr(runtime.brain.agent, "aclose", None)
        if aclose is not None:
            runner.run(aclose())
    return status


def _read_lines(name: str) -> list[bytes]:
    """The raw lines of FILE (`-` is stdin); undecoded, so each line's encoding is judged on its own."""
    if name == "-":
        return sys.stdin.buffer.read().splitlines()
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"--file {name}: no such file")
    return path.read_bytes().splitlines()


def _stdin_lines() -> Any:
    """Stdin as byte lines as they arrive (a pipe driven by another program must not be read ahead)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text-only stand-in (some embedders); its lines are already decoded
        return iter(sys.stdin.readline, "")
    return iter(buffer.readline, b"")


def _fresh_user(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _report(args: argparse.Namespace, settings: Any) -> int:
    """`report feedback|usage`: the dashboard's figures from the store alone (no model is loaded)."""
    from bot import reports
    from bot.store import open_store

    if args.report_command == "usage" and args.days < 1:
        raise UsageError(f"--days {args.days}: must be at least 1")
    if args.report_command == "feedback" and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: must be at least 1")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.database_url)
    try:
        if args.report_command == "feedback":
            feedback = reports.feedback_report(store, limit=args.limit)
            out = reports.feedback_csv(feedback) if args.csv else reports.feedback_text(feedback) + "\n"
        else:
            usage = reports.usage_report(store, days=args.days)
            out = reports.usage_csv(usage) if args.csv else reports.usage_text(usage) + "\n"
    finally:
        store.close()
    sys.stdout.write(out)
    return 0


def _quiz(args: argparse.Namespace, settings: Any) -> int:
    from bot.operator_errors import prepare_data_dir
    from bot.quiz import QuizEngine, run_terminal_quiz
    from bot.store import open_store

    prepare_data_dir(settings.data_dir)
    store = open_store(settings.database_url)
    try:
        engine = QuizEngine.from_settings(store, settings)
        if args.answers is not None:
            result = engine.score_sheet(args.answers)
            if args.json:
                print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
            else:
                print(result.as_dict()["explanation"])
                print(f"\nChart: {result.as_dict()['chart']}")
            return 0
        return run_terminal_quiz(engine, sys.stdin, sys.stdout)
    finally:
        store.close()


def _index(args: argparse.Namespace, settings: Any) -> int:
    from knowledge.embeddings import MiniLMEmbeddings, default_model_cache
    from knowledge.index import IndexError_, build_index, index_status

    sources = args.source if getattr(args, "source", None) else [settings.knowledge_dir / "articles"]
    for folder in sources:
        if not Path(folder).is_dir():
            raise UsageError(f"--source {folder}: not a folder")
    if args.index_command == "status":
        print(index_status(settings.index_dir, sources))
        return 0
    out = args.out or settings.index_dir
    try:
        manifest = build_index([Path(s) for s in sources], Path(out), MiniLMEmbeddings(default_model_cache(settings.index_dir)),
                               progress=True)
    except IndexError_ as exc:
        raise UsageError(str(exc)) from None
    print(f"indexed {manifest['chunks']} chunks from {len(manifest['files'])} files into {out} "
          f"in {manifest['build_seconds']} s")
    return 0


def _eval(args: argparse.Namespace, settings: Any) -> int:
    from bot.evaluation import evaluate_fit, evaluate_retrieval, read_jsonl

    if args.eval_command in ("answers", "conversations"):
        return _eval_brain(args, settings)
    if args.eval_command == "retrieval":
        from knowledge.embeddings import MiniLMEmbeddings, default_model_cache
        from knowledge.index import IndexError_, ensure_index, load_index
        from knowledge.retriever import HybridRetriever

        rows = read_jsonl(args.golden)
        embeddings = MiniLMEmbeddings(default_model_cache(settings.index_dir))
        try:
            index = (load_index(args.index, embeddings) if args.index
                     else ensure_index(settings.index_dir, [settings.knowledge_dir / "articles"], embeddings))
        except IndexError_ as exc:
            raise UsageError(str(exc)) from None
        result = evaluate_retrieval(rows, HybridRetriever(index).search, k=args.k)
        if args.json:
            print(json.dumps({k: result[k] for k in ("n", "k", "recall_at_k", "mrr")}))
        else:
            print(f"n={result['n']} recall@{result['k']}={result['recall_at_k']:.3f} mrr={result['mrr']:.3f}")
            for q in result["misses"]:
                print(f"  miss: {q}")
        return 0
    from bot.fit import FitAssessor
    from knowledge.embeddings import MiniLMEmbeddings, default_model_cache

    rows = read_jsonl(args.personas)
    assessor = FitAssessor(MiniLMEmbeddings(default_model_cache(settings.index_dir)).embed_many_queries)
    result = evaluate_fit(rows, lambda text: assessor.assess(text).label)
    if args.json:
        print(json.dumps({k: result[k] for k in ("n", "accuracy", "macro_f1", "per_label")}))
    else:
        print(f"n={result['n']} accuracy={result['accuracy']:.3f} macro_f1={result['macro_f1']:.3f}")
        for label, pr in result["per_label"].items():
            print(f"  {label}: precision={pr['precision']:.3f} recall={pr['recall']:.3f}")
    return 0


def _eval_brain(args: argparse.Namespace, settings: Any) -> int:
    """`eval answers` / `eval conversations`: the set run through `Brain.respond`, the whole offline brain.

    The brain gets a throwaway SQLite store, so evaluation neither reads the operator's conversation
    history nor leaves hundreds of synthetic answers in it, and no LLM (the gate measures the
    offline path, which `respond` is). Reports only: exit 0 whatever the numbers; gates live in tests.
    """
    import itertools
    import tempfile
    import uuid
    from dataclasses import replace

    from bot.evaluation import evaluate_answers, evaluate_conversations, read_jsonl
    from bot.messages import Inbound, Kind
    from bot.runtime import Knowledge, build_brain
    from bot.store import open_store

    rows = read_jsonl(args.set_file)  # a malformed set fails before the model loads
    knowledge = Knowledge.load(settings)
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="careerbot-eval-") as tmp:
        offline = replace(settings, llm=None, data_dir=Path(tmp), database_url=f"sqlite:///{Path(tmp) / 'eval.sqlite3'}")
        store = open_store(offline.database_url)
        brain = build_brain(offline, knowledge, store)
        try:
            counter = itertools.count(1)

            def conversation() -> Any:
                user = f"eval-{run}-{next(counter)}"

                def send(text: str) -> tuple[str, str]:
                    reply = brain.respond(Inbound("eval", user, "eval", text, Kind.DM))
                    return reply.text, str(reply.intent)
                return send

            if args.eval_command == "answers":
                result = evaluate_answers(rows, lambda question: conversation()(question))
            else:
                result = evaluate_conversations(rows, conversation)
        finally:
            brain.close()
            store.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    if args.eval_command == "answers":
        print(f"n={result['n']} facts_rate={result['facts_rate']:.3f} refused={result['refused']} "
              f"redirected={result['redirected']}/{result['n_out_of_scope']} median_words={result['median_words']}")
    else:
        print(f"scripts={result['n_scripts']} turns={result['n_turns']} facts_rate={result['facts_rate']:.3f} "
              f"context_kept={result['context_kept']:.3f} ({result['context_turns']} context turns)")
    for miss in result["misses"]:
        missing = "; ".join(" | ".join(group) for group in miss["missing"])
        print(f"  miss: {miss['question']}  (missing: {missing})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
