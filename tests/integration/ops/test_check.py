"""`careerbot check` and `run`'s token check: a good token, a rejected one, and a host that cannot
be reached (a port nobody listens on, a name that does not resolve) are three different answers.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest
from conftest import free_port
from fake_discord import TOKEN as DISCORD_TOKEN
from fake_discord import FakeDiscord
from openai_stub import OpenAIStub
from slack_fake_api import APP_TOKEN, FakeSlack
from slack_fake_api import TOKEN as SLACK_TOKEN

from bot.config import Settings
from bot.ops.check import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    CheckResult,
    check_discord,
    check_llm,
    check_slack,
    exit_code,
    run_checks,
)

UNRESOLVABLE = "http://careerbot-check.invalid"  # .invalid never resolves (RFC 2606)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:
        yield s


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


# --- Slack ------------------------------------------------------------------------------------------

async def test_slack_good_tokens(slack_fake: FakeSlack, session) -> None:
    s = Settings(slack_bot_token=SLACK_TOKEN, slack_app_token=APP_TOKEN, slack_api_base_url=slack_fake.base_url + "/api")
    results = await check_slack(s, session)
    assert [(r.name, r.status) for r in results] == [("slack", "ok"), ("slack-app", "ok")]
    assert "careerbot in Careers" in results[0].detail
    assert slack_fake.calls_to("auth.test") and slack_fake.calls_to("apps.connections.open")


async def test_slack_rejected_token(slack_fake: FakeSlack, session) -> None:
    s = Settings(slack_bot_token="xoxb-not-the-right-one", slack_api_base_url=slack_fake.base_url + "/api")
    [result] = await check_slack(s, session)
    assert result.status == "rejected" and "SLACK_BOT_TOKEN" in result.detail and "invalid_auth" in result.detail
    assert "xoxb-not-the-right-one" not in result.line()


async def test_slack_rejected_app_token(slack_fake: FakeSlack, session) -> None:
    s = Settings(slack_bot_token=SLACK_TOKEN, slack_app_token="xapp-wrong",
                 slack_api_base_url=slack_fake.base_url + "/api")
    results = await check_slack(s, session)
    assert [(r.name, r.status) for r in results] == [("slack", "ok"), ("slack-app", "rejected")]
    assert "SLACK_APP_TOKEN" in results[1].detail


async def test_slack_unreachable_port_and_unresolvable_name(session) -> None:
    refused = await check_slack(Settings(slack_bot_token=SLACK_TOKEN, slack_api_base_url=dead_url() + "/api"), session)
    assert refused[0].status == "unreachable" and "cannot connect to 127.0.0.1" in refused[0].detail
    unknown = await check_slack(Settings(slack_bot_token=SLACK_TOKEN, slack_api_base_url=UNRESOLVABLE + "/api"), session)
    assert unknown[0].status == "unreachable" and "cannot resolve careerbot-check.invalid (DNS)" in unknown[0].detail


# --- Discord ----------------------------------------------------------------------------------------

async def test_discord_good_rejected_unreachable(discord_fake: FakeDiscord, session) -> None:
    good = await check_discord(Settings(discord_token=DISCORD_TOKEN, discord_api_base_url=discord_fake.api_base), session)
    assert good.status == "ok" and "careerbot" in good.detail
    bad = await check_discord(Settings(discord_token="nope", discord_api_base_url=discord_fake.api_base), session)
    assert bad.status == "rejected" and "DISCORD_TOKEN" in bad.detail
    refused = await check_discord(Settings(discord_token=DISCORD_TOKEN, discord_api_base_url=dead_url()), session)
    assert refused.status == "unreachable" and "cannot connect" in refused.detail
    unknown = await check_discord(Settings(discord_token=DISCORD_TOKEN, discord_api_base_url=UNRESOLVABLE), session)
    assert unknown.status == "unreachable" and "DNS" in unknown.detail


# --- LLM --------------------------------------------------------------------------------------------

async def test_llm_key_accepted_rejected_and_server_down(session) -> None:
    async with OpenAIStub(api_key="sk-right-key-0123456789") as stub:
        def llm(key: str, base: str = stub.base_url) -> Settings:
            return Settings(llm="openai:stub-model", llm_base_url=base, llm_api_key=key)

        assert (await check_llm(llm("sk-right-key-0123456789"), session)).status == "ok"
        rejected = await check_llm(llm("sk-wrong"), session)
        assert rejected.status == "rejected" and "401" in rejected.detail
    down = await check_llm(Settings(llm="openai:m", llm_base_url=dead_url() + "/v1", llm_api_key="k"), session)
    assert down.status == "unreachable"
    no_key = await check_llm(Settings(llm="openai:gpt-4o-mini"), session)
    assert no_key.status == "config" and "OPENAI_API_KEY" in no_key.detail


# --- the whole report and exit codes ----------------------------------------------------------------

def test_exit_codes_rank_config_then_rejection_then_network() -> None:
    def r(status: str) -> CheckResult:
        return CheckResult("x", status, "")

    assert exit_code([r("ok"), r("skipped")]) == EXIT_OK
    assert exit_code([r("ok"), r("unreachable")]) == EXIT_UNREACHABLE
    assert exit_code([r("error")]) == EXIT_UNREACHABLE
    assert exit_code([r("unreachable"), r("rejected")]) == EXIT_REJECTED
    assert exit_code([r("rejected"), r("config")]) == EXIT_CONFIG


async def test_run_checks_covers_local_state_and_every_platform(slack_fake, discord_fake, tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, index_dir=tmp_path / "index", knowledge_dir=Path(__file__).parents[3] / "knowledge",
                 slack_bot_token=SLACK_TOKEN, slack_app_token=APP_TOKEN, slack_api_base_url=slack_fake.base_url + "/api",
                 discord_token="nope", discord_api_base_url=discord_fake.api_base)
    results = {r.name: r for r in await run_checks(s)}
    assert {n: r.status for n, r in results.items()} == {
        "data dir": "ok", "knowledge": "ok", "database": "ok", "index": "ok",
        "slack": "ok", "slack-app": "ok", "discord": "rejected"}
    assert "not built yet" in results["index"].detail
    assert exit_code(results.values()) == EXIT_REJECTED


# --- as a process -----------------------------------------------------------------------------------

def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERBOT_", "SLACK_", "DISCORD_"))}
    return keep | {"CAREERBOT_DATA_DIR": str(tmp_path), "CAREERBOT_LOG_LEVEL": "WARNING"} | extra


async def careerbot(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd,
                                                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
async def test_check_command_exit_codes(discord_fake: FakeDiscord, tmp_path: Path) -> None:
    root = Path(__file__).parents[3]
    env = _env(tmp_path, PYTHONPATH=str(root), DISCORD_API_BASE_URL=discord_fake.api_base)
    status, out, _ = await careerbot(env | {"DISCORD_TOKEN": DISCORD_TOKEN}, "check", cwd=root)
    assert status == 0, out
    assert "all checks passed (exit 0)" in out
    status, out, _ = await careerbot(env | {"DISCORD_TOKEN": "wrong"}, "check", cwd=root)
    assert status == 3 and "rejected" in out
    status, out, _ = await careerbot(env | {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_BASE_URL": dead_url()},
                                     "check", cwd=root)
    assert status == 4 and "unreachable" in out and "cannot connect" in out


@pytest.mark.slow
async def test_run_checks_the_token_before_loading_the_model(discord_fake: FakeDiscord, tmp_path: Path) -> None:
    root = Path(__file__).parents[3]
    env = _env(tmp_path, PYTHONPATH=str(root), DISCORD_API_BASE_URL=discord_fake.api_base,
               CAREERBOT_INDEX_DIR=str(tmp_path / "no-index-here"))
    status, _, err = await careerbot(env | {"DISCORD_TOKEN": "wrong"}, "run", "discord", cwd=root)
    assert status == 3
    assert err.strip().splitlines() == ["careerbot: discord: DISCORD_TOKEN was rejected by Discord: copy the bot token again"]
    assert not (tmp_path / "no-index-here").exists(), "the model was loaded (and the index built) before the check"
    status, _, err = await careerbot(env | {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_BASE_URL": UNRESOLVABLE},
                                     "run", "discord", cwd=root)
    assert status == 4 and len(err.strip().splitlines()) == 1 and "DNS" in err


@pytest.mark.slow
async def test_dotenv_and_data_folder_come_from_the_current_folder(tmp_path: Path) -> None:
    root = Path(__file__).parents[3]
    env = _env(tmp_path, PYTHONPATH=str(root))
    del env["CAREERBOT_DATA_DIR"]
    (tmp_path / ".env").write_text("CAREERBOT_LOG_FORMAT=yaml\n")
    status, _, err = await careerbot(env, "check", cwd=tmp_path)
    assert status == 2 and "CAREERBOT_LOG_FORMAT must be text or json" in err
    (tmp_path / ".env").write_text("CAREERBOT_LOG_FORMAT=json\n")
    status, out, _ = await careerbot(env, "check", cwd=tmp_path)
    assert status == 0, out
    assert f"{tmp_path / 'data'} is writable" in out
    assert (tmp_path / "data").is_dir()


async def test_container_healthcheck_script(sqlite_store_path: Path) -> None:
    """deploy/healthcheck.py (the image's HEALTHCHECK) against a real ops server: ready, not ready, down."""
    from bot.ops import Health, Metrics, start_ops_server
    from bot.store import open_store

    script = Path(__file__).parents[3] / "deploy" / "healthcheck.py"
    port = free_port()

    async def probe(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, str(script), "--port", str(port), *args,
                                                    stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    store = open_store(f"sqlite:///{sqlite_store_path}")
    health = Health(store, index_loaded=lambda: True)
    connected = {"discord": False}
    health.add_platform("discord", lambda: connected["discord"])
    runner = await start_ops_server(health, Metrics(), port, host="127.0.0.1")
    try:
        status, out = await probe()
        assert status == 1 and "answered 503" in out and '"discord": "not connected"' in out
        assert (await probe("--path", "/healthz"))[0] == 0
        connected["discord"] = True
        assert await probe() == (0, "")
    finally:
        await runner.cleanup()
        health.close()
        store.close()
    status, out = await probe()
    assert status == 1 and "Connection refused" in out


@pytest.fixture
def sqlite_store_path(tmp_path: Path) -> Path:
    return tmp_path / "health.sqlite3"


@pytest.mark.postgres
def test_database_check_tells_refused_credentials_from_an_unreachable_server(tmp_path: Path) -> None:
    from bot.ops.check import _check_store

    url = os.environ.get("CAREERBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    good = _check_store(Settings(data_dir=tmp_path, database_url=url))
    if good.status == "unreachable":
        pytest.skip(f"PostgreSQL is not running at {url.split('@')[-1]}: {good.detail}")
    assert good.status == "ok"
    host = url.split("@", 1)[1]
    nobody = _check_store(Settings(data_dir=tmp_path, database_url=f"postgresql://careerbot_no_such_role@{host}"))
    assert nobody.status == "rejected" and "careerbot_no_such_role" in nobody.detail
    down = _check_store(Settings(data_dir=tmp_path, database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/test"))
    assert down.status == "unreachable"


def test_sqlite_check_changes_nothing(tmp_path: Path) -> None:
    from bot.ops.check import _check_store
    from bot.store import open_store

    path = tmp_path / "db" / "careerbot.sqlite3"
    s = Settings(data_dir=tmp_path, database_url=f"sqlite:///{path}")
    assert _check_store(s).status == "ok" and not path.exists()
    open_store(s.database_url).close()
    assert _check_store(s) == CheckResult("database", "ok", f"SQLite file {path} opens")
