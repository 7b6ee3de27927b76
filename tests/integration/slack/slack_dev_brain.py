"""Development stand-in for bot.brain.Brain (same handle signature); replaced by the real brain."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from bot.messages import Attachment, Button, Inbound, Kind, Reply, Source
from bot.store.base import AnswerRecord


class DevBrain:
    def __init__(self, store, tmp: Path):
        self.store, self.tmp = store, tmp
    async def handle(self, inbound: Inbound) -> Reply:
        s = self.store
        if inbound.kind is Kind.ACTION:
            v = inbound.action or ""
            if v.startswith("feedback:"):
                _, aid, d = v.split(":")
                s.record_feedback(aid, inbound.user_key, d == "up")
                return Reply("Thanks for the feedback!", ephemeral=True)
            if v.startswith("share:"):
                rec = s.get_answer(v.split(":")[1])
                return Reply(f"<@{inbound.user}> shared: {rec.text}", data={"answer_id": rec.answer_id})
            if v.startswith("quiz:"):
                n = int(v.split(":")[2])
                if n >= 3:
                    p = self.tmp / "chart.png"
                    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 2000)
                    return Reply("**Result:** AI engineer", intent="quiz", replace=True,
                                 attachments=(Attachment("quiz-result.png", p, title="Your profile"),))
                return Reply(f"Question {n+1}", intent="quiz", replace=True,
                             buttons=((Button("A", f"quiz:answer:{n+1}:0"), Button("B", f"quiz:answer:{n+1}:1")),))
        if inbound.kind is Kind.COMMAND and inbound.command == "quiz":
            return Reply("Question 1", intent="quiz", buttons=((Button("A", "quiz:answer:1:0"), Button("B", "quiz:answer:1:1")),))
        text = inbound.text
        if "long" in text:
            body = "\n\n".join(f"Paragraph {i}: " + "word " * 100 for i in range(30))
        else:
            body = f"**Answer** to: {text}. See [the guide](https://example.org/ai)."
        aid = uuid.uuid4().hex[:12]
        s.append_turn(inbound.conversation_key, inbound.user_key, "user", text)
        s.append_turn(inbound.conversation_key, inbound.user_key, "assistant", body)
        s.save_answer(AnswerRecord(aid, inbound.user_key, inbound.conversation_key, text, body, [], time.time()))
        return Reply(body, sources=(Source("AI engineer guide", "https://example.org/ai"),),
                     ephemeral=inbound.kind is Kind.COMMAND and inbound.command == "career", data={"answer_id": aid})
