"""`careerbot`: the command-line entry point (see the contract in docs/ARCHITECTURE.md).

This is the only place that loads `.env` (from the current folder) and reads the environment
(through `Settings.from_env`). Errors an operator can fix (a bad variable, a missing folder, a
malformed file) print one line and exit with status 2; they never print a traceback. `check`
and `run`'s token check add 3 (a token was rejected) and 4 (a service could not be reached).
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

from bot.serving import SERVING_BRAIN

__all__ = ["SERVING_BRAIN", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="careerbot", description="Career advice: AI engineer, ML engineer, or neither.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start every configured adapter (terminal chat when none)")
    run.add_argument("platform", nargs="?", choices=["slack", "discord", "console", "web"])
    run.add_argument("--http", type=int, metavar="PORT", help="Slack HTTP mode on PORT (events at /slack/events)")
    run.add_argument("--port", type=int, metavar="PORT",
                     help="web playground and admin on PORT (run web; default CAREERBOT_WEB_PORT or 8080)")

    check = sub.add_parser("check", help="check the configuration and, over the network, each configured token")
    check.add_argument("--timeout", type=float, default=5.0, help="seconds per network check (default 5)")

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
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    isub.add_parser("status", help="is the index fresh?")

    ev = sub.add_parser("eval", help="quality gates")
    esub = ev.add_subparsers(dest="eval_command", required=True)
    er = esub.add_parser("retrieval")
    er.add_argument("--golden", type=Path, required=True)
    er.add_argument("--index", type=Path)
    er.add_argument("--k", type=int, default=5)
    er.add_argument("--json", action="store_true")
    er.add_argument("--quiet", action="store_true", help="no progress bar")
    ef = esub.add_parser("fit")
    ef.add_argument("--personas", type=Path, required=True)
    ef.add_argument("--json", action="store_true")
    ef.add_argument("--quiet", action="store_true", help="no progress bar")
    ea = esub.add_parser("answers", help="does the whole brain's reply state the facts? (JSON lines set)")
    ea.add_argument("--set", type=Path, required=True, dest="set_file", metavar="FILE")
    ea.add_argument("--json", action="store_true")
    ea.add_argument("--quiet", action="store_true", help="no progress bar")
    ec = esub.add_parser("conversations", help="do follow-ups keep their context? (JSON lines scripts)")
    ec.add_argument("--set", type=Path, required=True, dest="set_file", metavar="FILE")
    ec.add_argument("--json", action="store_true")
    ec.add_argument("--quiet", action="store_true", help="no progress bar")

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
    bench.add_argument("--concurrency", type=int, default=32, metavar="N",
                       help="concurrent conversations: messages come from N people, each answered in order "
                            "(default 32)")
    bench.add_argument("--workers", type=int, metavar="THREADS",
                       help=f"answer threads (default: what `run` uses, {SERVING_BRAIN['workers']})")
    bench.add_argument("--rate", type=float, default=140.0, help="target arrival rate, messages per second")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quiet", action="store_true", help="no progress display")
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

    # The current folder's .env, where the operator runs the bot (not the package's folder); the
    # environment wins over the file.
    load_dotenv(Path.cwd() / ".env")
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
    from bot.ops.logs import configure_logging

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    configure_logging(settings.log_level, settings.log_format)
    # After the handlers exist (configure_logging replaces them): third-party loggers capped (they
    # log payloads at DEBUG), secrets redacted on every handler.
    install_log_privacy(settings)


def _dispatch(args: argparse.Namespace, settings: Any) -> int:
    command = args.command
    if command == "check":
        return _check(args, settings)
    if command == "index":
        return _index(args, settings)
    if command == "eval":
        return _eval(args, settings)
    if command == "bench":
        from bot.bench import run_bench
        from bot.progress import status

        expected = args.messages / args.rate if args.rate > 0 else 0
        if args.concurrency < 1 or (args.workers is not None and args.workers < 1):
            raise UsageError("bench: --concurrency and --workers must be at least 1")
        with status(f"bench: loading the model, then {args.messages} messages at {args.rate:g}/s "
                    f"(about {expected:.0f} s of sending)", quiet=args.quiet):
            result = run_bench(settings, messages=args.messages, conversations=args.concurrency, rate=args.rate,
                               workers=args.workers)
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

    observers: tuple[Any, ...] = ()
    metrics = None
    if command == "run":
        platforms = _platforms(args, settings)
        serves_web = args.platform == "web" or (args.platform is None and bool(settings.web_port))
        if not platforms and not serves_web and args.platform is None and not sys.stdin.isatty():
            print("careerbot: nothing to run: no Slack or Discord tokens are configured (environment or ./.env) "
                  "and stdin is not a terminal for the chat", file=sys.stderr)
            return 2
        if platforms:
            status = _check_before_run(args, settings, platforms)  # fail in a second, not after loading
            if status:
                return status
        if platforms or serves_web:
            from bot.ops import AnswerLog, Metrics

            metrics = Metrics()
            observers = (metrics.observe, AnswerLog())
    from bot.operator_errors import check_knowledge_dir, prepare_data_dir
    from bot.runtime import Runtime

    prepare_data_dir(settings.data_dir)  # one line now, not a traceback after loading the model
    check_knowledge_dir(settings.knowledge_dir)
    logging.getLogger("careerbot").debug("settings: %s", settings.describe())  # secrets show as set/unset
    _build_index_if_needed(settings)
    # Serving: platform events are acked on the event loop while answers run on threads; the
    # serving options keep those threads few and below the loop's priority (docs/performance.md).
    runtime = Runtime.create(settings, observers=observers, brain_options=SERVING_BRAIN if command == "run" else None)
    try:
        if command == "chat" and args.json:
            from adapters.console import run_json_chat

            # Bytes, decoded line by line: one stray byte must not end the conversation.
            return run_json_chat(runtime.brain, _stdin_lines(), sys.stdout)
        if command in ("chat",) or (command == "run" and _wants_console(args, settings)):
            from adapters.console import run_chat

            return run_chat(runtime.brain, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
        if command == "run":
            return asyncio.run(run_adapters(args.platform, runtime, metrics, slack_http_port=args.http,
                                            web_port=args.port))
        if questions is not None:
            return _ask_many(args, runtime, questions)
        return _one_shot(args, runtime)
    finally:
        runtime.close()


def _build_index_if_needed(settings: Any) -> None:
    """A missing or stale index is built here, with a progress bar on a terminal, rather than
    silently inside `Runtime.create` (the first start spends most of its time here)."""
    from knowledge.index import index_status

    sources = [settings.knowledge_dir / "articles"]
    status = index_status(settings.index_dir, sources)
    if status == "fresh":
        return
    from bot.progress import ProgressEmbeddings, progress_bar
    from knowledge.embeddings import MiniLMEmbeddings, default_model_cache
    from knowledge.index import IndexError_, build_index

    model = MiniLMEmbeddings(default_model_cache(settings.index_dir))
    model.warm_up()  # an install that cannot embed (no model folder, no build extra) says so in one line first
    logging.getLogger("careerbot").info("building the knowledge index (%s) into %s", status, settings.index_dir)
    try:
        with progress_bar(f"building the knowledge index ({status})") as bar:
            build_index(sources, settings.index_dir, ProgressEmbeddings(model, bar))
    except IndexError_ as exc:
        raise UsageError(str(exc)) from None


def _wants_console(args: argparse.Namespace, settings: Any) -> bool:
    if args.platform == "console":
        return True
    if args.platform is None:
        return not (settings.slack_enabled or settings.discord_enabled or settings.web_port)
    return False


def _platforms(args: argparse.Namespace, settings: Any) -> list[str]:
    """The chat platforms `run` will serve: the one named, or every configured one."""
    if args.platform in ("slack", "discord"):
        return [args.platform]
    if args.platform is None:
        return [p for p, on in (("slack", settings.slack_enabled), ("discord", settings.discord_enabled)) if on]
    return []


def _check(args: argparse.Namespace, settings: Any) -> int:
    from bot.ops.check import exit_code, run_checks

    results = asyncio.run(run_checks(settings, timeout=args.timeout))
    for result in results:
        print(result.line())
    code = exit_code(results)
    verdict = {0: "all checks passed", 2: "configuration error", 3: "a token was rejected",
               4: "a service could not be reached"}[code]
    print(f"careerbot check: {verdict} (exit {code})")
    return code


def _check_before_run(args: argparse.Namespace, settings: Any, platforms: list[str]) -> int:
    """Missing variables, then each platform token over the network; the LLM only warns (it has a fallback)."""
    from bot.ops.check import exit_code, run_checks

    if "slack" in platforms:
        from adapters.slack.runner import check_settings

        check_settings(settings, http=args.http is not None)
    if "discord" in platforms:
        from adapters.discord.client import check_settings as check_discord

        check_discord(settings)
    results = asyncio.run(run_checks(settings, platforms=platforms, local=False, socket_mode=args.http is None))
    log = logging.getLogger("careerbot")
    for result in results:
        if result.name == "llm" and result.failed:
            log.warning("llm: %s; answers will come from the offline composer until it works", result.detail)
        elif result.failed:
            print(f"careerbot: {result.name}: {result.detail}", file=sys.stderr)
        else:
            log.info("%s: %s", result.name, result.detail)
    return exit_code(r for r in results if r.name != "llm")


async def run_adapters(platform: str | None, runtime: Any, metrics: Any = None, *,
                       slack_http_port: int | None = None, web_port: int | None = None,
                       stop: asyncio.Event | None = None) -> int:
    """Serve the chosen platforms until SIGTERM or SIGINT (or `stop`), then let each drain.

    Signal handlers are installed on the loop (not left to KeyboardInterrupt) so SIGTERM from
    systemd, Docker or Kubernetes drains exactly like Ctrl-C, also as PID 1 in a container.
    The operator routes (/healthz, /readyz, /metrics) are served on CAREERBOT_HTTP_PORT, and in
    Slack HTTP mode also on the Slack port (same application), so a load balancer probes the port
    it sends events to.
    """
    import signal

    from bot.ops import Health, Metrics, start_ops_server

    settings = runtime.settings
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    log = logging.getLogger("careerbot")

    def on_signal(name: str) -> None:
        if not stop.is_set():
            log.info("%s received: no new work; draining for up to %g s", name, settings.drain_seconds)
        stop.set()

    metrics = metrics or Metrics()
    health = Health(runtime.store, index_loaded=lambda: bool(runtime.knowledge.index.chunks))
    ops_runner = None
    if settings.http_port is not None and settings.http_port != slack_http_port:
        try:  # first: a taken port is a one-line error before any platform connects
            ops_runner = await start_ops_server(health, metrics, settings.http_port)
        except BaseException:
            health.close()
            raise
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    tasks = []
    if platform in (None, "slack") and (settings.slack_enabled or platform == "slack"):
        from adapters.slack import run_slack

        tasks.append(asyncio.ensure_future(
            run_slack(settings, runtime.brain, runtime.store, http_port=slack_http_port, stop=stop,
                      health=health, metrics=metrics)))
    if platform in (None, "discord") and (settings.discord_enabled or platform == "discord"):
        from adapters.discord import run_discord

        tasks.append(asyncio.ensure_future(
            run_discord(settings, runtime.brain, runtime.store, stop=stop, health=health)))
    until_cancelled = []  # adapters without a drain of their own: cancelled once the others stop
    if platform == "web" or (platform is None and settings.web_port):
        from adapters.web import run_web

        port = web_port or settings.web_port or 8080
        until_cancelled.append(asyncio.ensure_future(
            run_web(settings, runtime.brain, runtime.store, runtime.knowledge, port=port)))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        # A signal, or one adapter ending (a refused token), stops the others; each drains.
        await asyncio.wait([*tasks, *until_cancelled, stopping], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for task in until_cancelled:
            task.cancel()
        everything = [*tasks, *until_cancelled]
        await asyncio.gather(*everything, return_exceptions=True)
        for task in everything:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stopping.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if ops_runner is not None:
            await ops_runner.cleanup()
        health.close()
        aclose = getattr(runtime.brain.agent, "aclose", None)
        if aclose is not None:
            await aclose()
    log.info("stopped")
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
    from bot.progress import ProgressEmbeddings, progress_bar

    out = args.out or settings.index_dir
    try:
        with progress_bar("embedding chunks and sentences", quiet=args.quiet) as bar:
            embeddings = ProgressEmbeddings(MiniLMEmbeddings(default_model_cache(settings.index_dir)), bar)
            manifest = build_index([Path(s) for s in sources], Path(out), embeddings)
    except IndexError_ as exc:
        raise UsageError(str(exc)) from None
    print(f"indexed {manifest['chunks']} chunks from {len(manifest['files'])} files into {out} "
          f"in {manifest['build_seconds']} s")
    return 0


def _eval(args: argparse.Namespace, settings: Any) -> int:
    from bot.evaluation import evaluate_fit, evaluate_retrieval, read_jsonl
    from bot.progress import counting, progress_bar

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
        with progress_bar("retrieval", len(rows), quiet=args.quiet) as bar:
            result = evaluate_retrieval(rows, counting(HybridRetriever(index).search, bar), k=args.k)
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
    with progress_bar("fit", len(rows), quiet=args.quiet) as bar:
        result = evaluate_fit(rows, counting(lambda text: assessor.assess(text).label, bar))
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
    from bot.progress import counting, progress_bar
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

            steps = len(rows) if args.eval_command == "answers" else sum(len(t) for r in rows if isinstance(t := r.get("turns"), list))
            with progress_bar(f"eval {args.eval_command}", steps, quiet=args.quiet) as bar:
                if args.eval_command == "answers":
                    result = evaluate_answers(rows, counting(lambda question: conversation()(question), bar))
                else:
                    def counted_conversation() -> Any:
                        return counting(conversation(), bar)
                    result = evaluate_conversations(rows, counted_conversation)
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
