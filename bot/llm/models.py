"""Choosing the chat model from `CAREERBOT_LLM`, and turning setup mistakes into one clear line.

The admin writes `provider:model` (`openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-5`,
`ollama:llama3.2`) and, for any OpenAI-compatible server (llama.cpp's `llama-server`, vLLM,
LM Studio), `CAREERBOT_LLM_BASE_URL`. LangChain's `init_chat_model` does the provider switch; this
module adds what it does not: checks that the provider package is installed and a key is present
*before* the first user waits on it, and per-event-loop clients (see `ModelSpec.create`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

from bot.config import ConfigError, Settings

__all__ = ["ModelSpec", "parse_model_spec"]

# provider -> (python module, pip package, careerbot extra or None)
_PACKAGES: dict[str, tuple[str, str, str | None]] = {
    "openai": ("langchain_openai", "langchain-openai", "openai"),
    "anthropic": ("langchain_anthropic", "langchain-anthropic", "anthropic"),
    "ollama": ("langchain_ollama", "langchain-ollama", "ollama"),
    "google_genai": ("langchain_google_genai", "langchain-google-genai", None),
    "groq": ("langchain_groq", "langchain-groq", None),
    "mistralai": ("langchain_mistralai", "langchain-mistralai", None),
    "deepseek": ("langchain_deepseek", "langchain-deepseek", None),
    "xai": ("langchain_xai", "langchain-xai", None),
}
# Names admins use for "an OpenAI-compatible server"; they all mean openai plus a base URL.
_OPENAI_COMPATIBLE = {"openai-compatible", "openai_compatible", "llamacpp", "llama.cpp", "llama-cpp", "vllm",
                      "lmstudio", "lm-studio"}
_KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google_genai": "GOOGLE_API_KEY",
                  "groq": "GROQ_API_KEY", "mistralai": "MISTRAL_API_KEY", "deepseek": "DEEPSEEK_API_KEY",
                  "xai": "XAI_API_KEY"}
# A local server ignores the key, but the OpenAI client refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"

Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ModelSpec:
    """A validated model choice that can build a fresh chat model on demand.

    Attributes:
        provider: the `init_chat_model` provider key (aliases such as `llamacpp` become `openai`).
        model: the provider's model name.
        label: what the admin wrote, for logs and `Reply.data` (never contains a key).
        kwargs: keyword arguments for `init_chat_model` (may hold the API key; not in `repr`).
    """

    provider: str
    model: str
    label: str
    timeout: float
    kwargs: dict[str, Any] = field(default_factory=dict, repr=False)

    def create(self) -> tuple[Any, list[Closer]]:
        """A new chat model and the coroutines that release its connections.

        Why fresh per event loop: langchain-openai shares one cached HTTP client per base URL, and an
        HTTP client's connections belong to the loop that opened them; the terminal chat runs each
        message in a new loop, so a shared client fails with "Event loop is closed" on the second one.
        """
        from langchain.chat_models import init_chat_model

        kwargs = dict(self.kwargs)
        closers: list[Closer] = []
        if self.provider == "openai":
            import httpx

            client = httpx.AsyncClient(timeout=self.timeout)
            kwargs["http_async_client"] = client
            closers.append(client.aclose)
        try:
            model = init_chat_model(self.model, model_provider=self.provider, **kwargs)
        except ImportError as exc:  # checked in parse_model_spec; kept for a package that breaks on import
            raise ConfigError(_install_hint(self.provider, self.label)) from exc
        return model, closers


def parse_model_spec(settings: Settings) -> ModelSpec:
    """Validate `settings.llm` and friends; raise `ConfigError` with one line naming the fix.

    The key is `settings.llm_api_key`, which `Settings.from_env` fills from `CAREERBOT_LLM_API_KEY`
    or else the provider's own variable (`OPENAI_API_KEY`, ...).
    """
    raw = (settings.llm or "").strip()
    provider, _, model = raw.partition(":")
    provider, model = provider.strip().lower(), model.strip()
    if not provider or not model:
        raise ConfigError(f"CAREERBOT_LLM must look like provider:model (e.g. openai:gpt-4o-mini), got {raw!r}")
    base_url = settings.llm_base_url
    if provider in _OPENAI_COMPATIBLE:
        if not base_url:
            raise ConfigError(f"CAREERBOT_LLM={raw} needs CAREERBOT_LLM_BASE_URL, the server's OpenAI-compatible "
                              "address (e.g. http://127.0.0.1:8080/v1)")
        provider = "openai"
    if provider not in _PACKAGES:
        known = ", ".join(sorted([*_PACKAGES, "llamacpp"]))
        raise ConfigError(f"CAREERBOT_LLM provider {provider!r} is not supported; use one of: {known}")
    module = _PACKAGES[provider][0]
    if find_spec(module) is None:
        raise ConfigError(_install_hint(provider, raw))

    kwargs: dict[str, Any] = {"temperature": 0.2}
    key = settings.llm_api_key
    if provider == "ollama":
        # ChatOllama takes its HTTP timeout through client_kwargs; it has no API key.
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout}
        if base_url:
            kwargs["base_url"] = base_url
    else:
        # Retries are ours (bounded, and never for timeouts: someone is waiting), so the SDK makes none.
        kwargs.update(timeout=settings.llm_timeout, max_retries=0)
        if base_url:
            kwargs["base_url"] = base_url
        key_variable = _KEY_VARIABLES.get(provider)
        if not key and key_variable:
            if base_url and provider == "openai":
                key = _PLACEHOLDER_KEY
            else:
                raise ConfigError(f"CAREERBOT_LLM={raw} needs an API key: set CAREERBOT_LLM_API_KEY "
                                  f"(or {key_variable})")
        if key:
            kwargs["api_key"] = key
    return ModelSpec(provider=provider, model=model, label=raw, timeout=settings.llm_timeout, kwargs=kwargs)


def _install_hint(provider: str, raw: str) -> str:
    _, package, extra = _PACKAGES[provider]
    command = f"pip install 'careerbot[{extra}]'" if extra else f"pip install {package}"
    return f"CAREERBOT_LLM={raw} needs the {package} package: {command}"
