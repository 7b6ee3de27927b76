"""The real brain reports every answer to its observers: metrics and the answer log see the same replies."""

from __future__ import annotations

from bot.messages import Inbound, Kind
from bot.ops import Metrics
from bot.runtime import build_brain


async def test_brain_observers_count_answers_votes_and_survive_a_failing_observer(settings, knowledge, store) -> None:
    metrics = Metrics()
    seen: list[tuple[str, str, float]] = []

    def broken(inbound, reply, seconds) -> None:
        raise RuntimeError("observer bug")

    brain = build_brain(settings, knowledge, store,
                        observers=(broken, metrics.observe, lambda i, r, s: seen.append((i.platform, r.intent, s))))
    try:
        reply = await brain.handle(Inbound("discord", "U1", "C1", "what does an ML engineer do?", Kind.MENTION))
        assert reply.intent == "question" and reply.text
        up = next(b.value for row in reply.buttons for b in row if b.value.endswith(":up"))
        vote = await brain.handle(Inbound("discord", "U1", "C1", "", Kind.ACTION, action=up))
        assert vote.intent == "feedback"
    finally:
        brain.close()
    assert [(p, i) for p, i, _ in seen] == [("discord", "question"), ("discord", "feedback")]
    assert all(s > 0 for _, _, s in seen)
    get = metrics.registry.get_sample_value
    assert get("careerbot_answers_total", {"platform": "discord", "intent": "question"}) == 1
    assert get("careerbot_feedback_votes_total", {"vote": "up"}) == 1
    assert get("careerbot_answer_seconds_count", {"platform": "discord"}) == 2
