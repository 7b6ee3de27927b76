"""State that must survive restarts: one interface, an embedded SQLite default, PostgreSQL for scale-out."""

from bot.store.base import AnswerRecord, Store, Turn

__all__ = ["AnswerRecord", "Store", "Turn"]
