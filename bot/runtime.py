"""Wiring: build the store, the knowledge index, the services and the brain from `Settings`.

Kept apart from the CLI so tests, benchmarks and every adapter assemble the bot the same way.
The heavy part (embedding model, index) is `Knowledge`, which can be built once and shared by
several brains (the test suite does this: one model load, a fresh store per test).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bot.brain import AnswerObserver, Brain
from bot.career import CareerServices
from bot.config import Settings
from bot.fit import FitAssessor
from bot.plan import LearningPlanner
from bot.priority import lower_current_thread_priority
from bot.store import Store, open_store
from knowledge.cards import AnswerCards
from knowledge.embeddings import MiniLMEmbeddings, default_model_cache
from knowledge.index import KnowledgeIndex, ensure_index
from knowledge.retriever import HybridRetriever

__all__ = ["Knowledge", "Runtime", "build_brain"]

_log = logging.getLogger(__name__)


@dataclass
class Knowledge:
    """The loaded knowledge base and the services over it; expensive, so shared."""

    index: KnowledgeIndex
    services: CareerServices
    knowledge_dir: Path

    @classmethod
    def load(cls, settings: Settings, *, sources: list[Path] | None = None,
             embeddings: MiniLMEmbeddings | None = None) -> Knowledge:
        embeddings = embeddings or MiniLMEmbeddings(default_model_cache(settings.index_dir))
        embeddings.warm_up()  # a missing model fails here in one line, not at the first question
        articles = [settings.knowledge_dir / "articles"] if sources is None else sources
        index = ensure_index(settings.index_dir, articles, embeddings)
        services = CareerServices(
            retriever=HybridRetriever(index),
            assessor=FitAssessor(embeddings.embed_many_queries),
            planner=LearningPlanner(settings.knowledge_dir / "skills.yaml"),
            cards=AnswerCards.load(settings.knowledge_dir / "cards.yaml", embeddings.embed_many_queries,
                                   cache_dir=settings.index_dir),
            page_url=settings.public_url,
        )
        return cls(index=index, services=services, knowledge_dir=settings.knowledge_dir)


def build_brain(settings: Settings, knowledge: Knowledge, store: Store, *,
                observers: Sequence[AnswerObserver] = (), **options: Any) -> Brain:
    """A brain on `store`, with the quiz and (when configured) the LLM agent; `observers` see every answer, `options` go to `Brain`.

    The brain starts each message's query embedding with the embedder's `submit` (when it has
    one) so admitted messages batch without holding a thread; `prefetch=None` in `options` turns
    that off.
    """
    from bot.quiz.engine import QuizEngine

    quiz = QuizEngine.from_settings(store, settings)
    agent = None
    if settings.llm:
        from bot.llm import build_agent  # optional: only with CAREERBOT_LLM set

        agent = build_agent(settings, knowledge.services, store, quiz)
    embeddings = knowledge.index.embeddings
    options.setdefault("prefetch", getattr(embeddings, "submit", None))
    if options["prefetch"] is not None and hasattr(embeddings, "start_batchers"):
        # Started here, not by the first `submit` on the event loop: at the answer threads' priority.
        embeddings.start_batchers(partial(lower_current_thread_priority, options.get("thread_nice", 0)))
    return Brain(knowledge.services, store, quiz, agent=agent, secrets=settings.secrets, observers=observers, **options)


@dataclass
class Runtime:
    """Everything a running bot holds; close it on the way out."""

    settings: Settings
    knowledge: Knowledge
    store: Store
    brain: Brain
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, *, observers: Sequence[AnswerObserver] = (),
               brain_options: Mapping[str, Any] | None = None) -> Runtime:
        """Load everything; `observers` see every answer (metrics, answer log); `brain_options` go to `Brain`."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.llm:
            from bot.llm.models import parse_model_spec

            parse_model_spec(settings)  # a wrong model setting fails now, not after building the index
        # The store first: an unreachable database or a full disk fails in a second, not after
        # the model and the index have loaded.
        store = open_store(settings.database_url)
        try:
            knowledge = Knowledge.load(settings)
        except BaseException:
            store.close()
            raise
        brain = build_brain(settings, knowledge, store, observers=observers, **(brain_options or {}))
        return cls(settings=settings, knowledge=knowledge, store=store, brain=brain)

    def close(self) -> None:
        self.brain.close()
        self.store.close()
