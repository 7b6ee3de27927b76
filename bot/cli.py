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
    run.add_argument("platform", nargs="?", choices=["slack", "discord", "console"])
    run.add_argument("--http", type=int, metavar="PORT", help="Slack HTTP mode on PORT (events at /slack/events)")

    sub.add_parser("chat", help="terminal chat with the bot")
    for name, helptext in (("ask", "one answer"), ("assess", "fit assessment of a profile"),
                           ("plan", "learning plan for a profile or goal")):
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
    from dotenv import load_dotenv

    load_dotenv()
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"careerbot: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except (ConfigError, UsageError, FileNotFoundError, ValueError) as exc:
        print(f"careerbot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _configure_logging(level: str) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "transformers", "httpx", "faiss", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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

    if command == "run" and args.platform == "slack":
        from adapters.slack.runner import check_settings

        check_settings(settings, http=args.http is not None)  # fail in a second, not after loading
    if command == "run" and args.platform == "discord":
        from adapters.discord.client import check_settings as check_discord

        check_discord(settings)
    from bot.runtime import Runtime

    logging.getLogger("careerbot").debug("settings: %s", settings.describe())  # secrets show as set/unset
    runtime = Runtime.create(settings)
    try:
        if command in ("chat",) or (command == "run" and _wants_console(args, settings)):
            from adapters.console import run_chat

            return run_chat(runtime.brain, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
        if command == "run":
            return asyncio.run(_run_adapters(args, runtime))
        return _one_shot(args, runtime)
    finally:
        runtime.close()


def _wants_console(args: argparse.Namespace, settings: Any) -> bool:
    if args.platform == "console":
        return True
    if args.platform is None:
        return not (settings.slack_enabled or settings.discord_enabled)
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
    try:
        await asyncio.gather(*tasks)
    finally:
        aclose = getattr(runtime.brain.agent, "aclose", None)
        if aclose is not None:
            await aclose()
    return 0


def _one_shot(args: argparse.Namespace, runtime: Any) -> int:
    from adapters.console import render_reply
    from bot.messages import Inbound, Kind

    brain = runtime.brain
    if args.command == "ask":
        reply = asyncio.run(brain.handle(Inbound("console", "cli", "cli", args.text, Kind.DM)))
        payload = {"text": reply.text, "intent": reply.intent, "sources": [s.as_dict() for s in reply.sources]}
    elif args.command == "assess":
        fit = runtime.knowledge.services.assess(args.text)
        payload = fit.as_dict()
        reply = None
    else:  # plan
        reply = asyncio.run(brain.handle(Inbound("console", "cli", "cli", args.text, Kind.COMMAND, command="plan")))
        payload = {"text": reply.text, "intent": reply.intent, "plan": reply.data.get("plan"),
                   "sources": [s.as_dict() for s in reply.sources]}
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif reply is None:
        print(payload["explanation"])
    else:
        print(render_reply(reply))
    return 0


def _quiz(args: argparse.Namespace, settings: Any) -> int:
    from bot.quiz import QuizEngine, run_terminal_quiz
    from bot.store import open_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
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
    from knowledge.embeddings import MiniLMEmbeddings
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
        manifest = build_index([Path(s) for s in sources], Path(out), MiniLMEmbeddings())
    except IndexError_ as exc:
        raise UsageError(str(exc)) from None
    print(f"indexed {manifest['chunks']} chunks from {len(manifest['files'])} files into {out} "
          f"in {manifest['build_seconds']} s")
    return 0


def _eval(args: argparse.Namespace, settings: Any) -> int:
    from bot.evaluation import evaluate_fit, evaluate_retrieval, read_jsonl

    if args.eval_command == "retrieval":
        from knowledge.embeddings import MiniLMEmbeddings
        from knowledge.index import IndexError_, ensure_index, load_index
        from knowledge.retriever import HybridRetriever

        rows = read_jsonl(args.golden)
        embeddings = MiniLMEmbeddings()
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
    from knowledge.embeddings import MiniLMEmbeddings

    rows = read_jsonl(args.personas)
    assessor = FitAssessor(MiniLMEmbeddings().embed_many_queries)
    result = evaluate_fit(rows, lambda text: assessor.assess(text).label)
    if args.json:
        print(json.dumps({k: result[k] for k in ("n", "accuracy", "macro_f1", "per_label")}))
    else:
        print(f"n={result['n']} accuracy={result['accuracy']:.3f} macro_f1={result['macro_f1']:.3f}")
        for label, pr in result["per_label"].items():
            print(f"  {label}: precision={pr['precision']:.3f} recall={pr['recall']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
