"""Choosing the chat model: one clear line for every setup mistake, and no network when building it."""

from __future__ import annotations

from dataclasses import replace
from importlib.util import find_spec

import pytest

from bot.config import ConfigError, Settings
from bot.llm import build_agent, parse_model_spec


def with_llm(settings: Settings, llm: str, **changes: object) -> Settings:
    return replace(settings, llm=llm, **changes)  # type: ignore[arg-type]


def test_openai_needs_a_key(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"needs an API key: set CAREERBOT_LLM_API_KEY \(or OPENAI_API_KEY\)"):
        parse_model_spec(with_llm(settings, "openai:gpt-4o-mini"))


def test_openai_key_from_either_variable(settings: Settings) -> None:
    env_settings = Settings.from_env({"CAREERBOT_LLM": "openai:gpt-4o-mini", "OPENAI_API_KEY": "sk-env"})
    assert parse_model_spec(env_settings).kwargs["api_key"] == "sk-env"
    spec = parse_model_spec(with_llm(settings, "openai:gpt-4o-mini", llm_api_key="sk-ours-123456"))
    assert spec.kwargs["api_key"] == "sk-ours-123456"
    assert "sk-ours" not in repr(spec)
    assert spec.kwargs["timeout"] == settings.llm_timeout and spec.kwargs["max_retries"] == 0


@pytest.mark.parametrize("alias", ["llamacpp", "vllm", "lmstudio", "openai-compatible"])
def test_openai_compatible_servers_need_a_base_url_but_no_key(settings: Settings, alias: str) -> None:
    with pytest.raises(ConfigError, match="needs CAREERBOT_LLM_BASE_URL"):
        parse_model_spec(with_llm(settings, f"{alias}:qwen2.5-7b-instruct"))
    spec = parse_model_spec(with_llm(settings, f"{alias}:qwen2.5-7b-instruct",
                                     llm_base_url="http://127.0.0.1:8080/v1"))
    assert spec.provider == "openai" and spec.model == "qwen2.5-7b-instruct"
    assert spec.kwargs["base_url"] == "http://127.0.0.1:8080/v1" and spec.kwargs["api_key"]


@pytest.mark.skipif(find_spec("langchain_anthropic") is not None, reason="langchain-anthropic is installed")
def test_missing_provider_package_names_the_extra(settings: Settings) -> None:
    with pytest.raises(ConfigError) as error:
        parse_model_spec(with_llm(settings, "anthropic:claude-sonnet-4-5", llm_api_key="k"))
    assert str(error.value) == ("CAREERBOT_LLM=anthropic:claude-sonnet-4-5 needs the langchain-anthropic package: "
                                "pip install 'careerbot[anthropic]'")
    assert "\n" not in str(error.value)


@pytest.mark.skipif(find_spec("langchain_ollama") is not None, reason="langchain-ollama is installed")
def test_ollama_without_its_package(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"pip install 'careerbot\[ollama\]'"):
        parse_model_spec(with_llm(settings, "ollama:llama3.2"))


@pytest.mark.parametrize(("llm", "message"), [
    ("nosuch:model", "provider 'nosuch' is not supported"),
    ("openai:", "must look like provider:model"),
])
def test_malformed_values(settings: Settings, llm: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_model_spec(with_llm(settings, llm))


def test_model_is_built_without_network(settings: Settings) -> None:
    spec = parse_model_spec(with_llm(settings, "openai:gpt-4o-mini", llm_base_url="http://127.0.0.1:9/v1",
                                     llm_timeout=3.0))
    model, closers = spec.create()
    assert model.model_name == "gpt-4o-mini"
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.max_retries == 0 and closers  # its own HTTP client, closed with the agent


def test_build_agent_reports_config_errors_at_start_up(settings: Settings, knowledge, store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        build_agent(with_llm(settings, "nosuch:model"), knowledge.services, store, None)
