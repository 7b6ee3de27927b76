"""What a free-text message asks for, decided by rules the team can read and test.

Order matters: hostile input is caught before anything else so an injection attempt never reaches
retrieval or a model; then the cheap, unambiguous intents (help, small talk, quiz, plan); then
the distinction between describing oneself ("I'm a backend dev who hates calculus, is this for
me?") and asking about the field. Out-of-scope is not an intent decided here: the brain decides
it from the retrieval evidence and the conversation so far.
"""

from __future__ import annotations

import re
from enum import StrEnum

from knowledge.text import spell_out

__all__ = ["Intent", "about_me", "classify", "is_in_domain", "self_mentions"]


class Intent(StrEnum):
    QUESTION = "question"
    ASSESS = "assess"
    PLAN = "plan"
    QUIZ = "quiz"
    HELP = "help"
    SMALLTALK = "smalltalk"
    OUT_OF_SCOPE = "out_of_scope"
    HOSTILE = "hostile"
    EMPTY = "empty"


_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompt|guidelines|above)\b|"
    r"\b(your|the bot'?s?)\s+(system|developer|hidden|initial)\s+prompt\b|\byou are now\b|\bjailbreak\b|\bdeveloper mode\b|"
    r"\bact as (?:an? )?(?:unfiltered|evil|dan)\b|\bDAN\b|\bpretend (?:you|to be)\b.{0,40}\b(no|without)\b|"
    r"\b(reveal|print|show|repeat|tell me|give me)\b.{0,20}\b(your|the bot'?s?)\b.{0,20}"
    r"\b(prompt|instructions|api key|token|secret|password)s?\b",
    re.IGNORECASE,
)
_ABUSE = re.compile(
    r"\b(f+u+c+k+\s*(you|off|u)|stupid bot|idiot|kill yourself|kys|piece of (shit|crap)|shut up|"
    r"useless (bot|piece)|screw you)\b",
    re.IGNORECASE,
)
_HELP = re.compile(r"^\s*(/?help|\?+|commands?|what can you do\??|how do (i|you) (use|work)( this| you)?\??|usage)\s*[.!?]*\s*$",
                   re.IGNORECASE)
_SMALLTALK_PHRASE = (
    r"(hi+|hello+|hey+|yo|hiya|howdy|good (morning|afternoon|evening)|thanks?( you)?( so much)?|thx|ty|"
    r"cheers|bye|goodbye|see (you|ya)|ok(ay)?|cool|nice|great|awesome|lol|how are you( doing)?|who are you|"
    r"what are you|(lol |haha )?(are you|r u|ur|you'?re) (a )?(bot|robot|human|real)|tell me a joke)\b")
# One pleasantry or a few in a row ("thx bye", "ok cool thanks"), optionally addressed to the bot.
_SMALLTALK = re.compile(
    r"^\s*" + _SMALLTALK_PHRASE + r"(?:[\s!.?,:)(]+" + _SMALLTALK_PHRASE + r"){0,3}"
    r"[\s!.?,:)(]*(bot|careerbot)?[\s!.?,:)(]*$",
    re.IGNORECASE,
)
_QUIZ = re.compile(r"\b(quiz|questionnaire|take the test|personality test)\b", re.IGNORECASE)
_PLAN = re.compile(
    r"\b(what (should|do|must) i ((actually|really|even) )?(need to )?(learn|study|read)|learning (plan|path)|study plan|road ?map|curriculum|"
    r"where (do|should) i (start|begin)|how (do|can|should) i (start|begin|get started|learn|become|prepare)|"
    r"learn (first|next)|what to learn|steps to become|skills? (do i|should i|to) (need|learn|build)|"
    r"(would|do|will) i (still )?need to learn|what (are|would be) my (next )?steps|what are the (next )?steps (for me|to (become|get|start|switch)|from where i)|(what is|what's) (the |my )?first step)\b",
    re.IGNORECASE,
)
_SELF = re.compile(r"\b(i'?m|i am|i'?ve|i have|i've been|i was|i work|i studied|i did|i do|i like|i love|i hate|"
                   r"i enjoy|i prefer|i want|my (background|degree|job|experience)|me)\b", re.IGNORECASE)
_FIT_QUESTION = re.compile(
    r"\b((is|would|could) (it|this|that|ai engineering|ml engineering|machine learning|ai|ml)\b.{0,30}"
    r"\b(for me|right for me|a (good )?fit|suit me|worth it)|should i (become|be|go|pursue|switch|try|move|do|choose|pick)|"
    r"am i (a )?(good )?(fit|suited|cut out)|which (path|role|track|career|one) (fits|suits|is (right|best|better)) "
    r"(for )?me|(fit|suit)s? me|assess me|what fits me)\b",
    re.IGNORECASE,
)
# Terms that only this field uses. A match keeps a message in scope even when retrieval is unsure;
# words with everyday meanings ("train", "model", "data", "pay") are left to retrieval to judge.
_DOMAIN = re.compile(
    r"\b(ai|a\.i\.|ml|machine learning|artificial intelligence|llms?|gpt\w*|chatgpt|claude|llama|ollama|"
    r"ai engineer\w*|ml engineer\w*|software engineer\w*|prompt\w*|rag|embeddings?|vector (search|database|db)|"
    r"fine-?tun\w*|neural (net\w*|networks?)|deep learning|tensorflow|pytorch|backpropagation|linear algebra|"
    r"calculus|statistics|hallucinat\w*|chatbots?|agents? (framework|tool)\w*|mcp|langchain|hugging ?face|"
    r"openai|anthropic|gemini|mistral)\b",
    re.IGNORECASE,
)


def is_in_domain(text: str) -> bool:
    """Whether the text names the field; used only to keep a question in scope, never to refuse one."""
    return bool(_DOMAIN.search(text))


def classify(text: str) -> Intent:
    """The intent of a cleaned, non-truncated message."""
    stripped = text.strip()
    if not stripped:
        return Intent.EMPTY
    if _INJECTION.search(stripped) or _ABUSE.search(stripped):
        return Intent.HOSTILE
    if _HELP.match(stripped):
        return Intent.HELP
    if _SMALLTALK.match(stripped):
        return Intent.SMALLTALK
    if _QUIZ.search(stripped) and len(stripped.split()) <= 12:
        return Intent.QUIZ
    if _PLAN.search(stripped):
        return Intent.PLAN
    self_mentions = len(_SELF.findall(stripped))
    if _FIT_QUESTION.search(stripped) and self_mentions >= 1:
        return Intent.ASSESS
    if self_mentions >= 3 and len(stripped.split()) >= 15 and "?" not in stripped[:-1] and \
            not WANTS_TO_KNOW.search(stripped):
        return Intent.ASSESS
    # Out of scope is not decided here: a word list can only widen scope (see `is_in_domain`); the
    # brain refuses only when retrieval finds nothing relevant and the conversation has no topic.
    return Intent.QUESTION


# "I want to know what the difference is": a question asked as a statement (no "?" to find).
WANTS_TO_KNOW = re.compile(r"\b((want|wanna|would like|'d like) to (know|understand)|wonder(ing)?|"
                           r"(please |pls )?explain|curious (about|whether|if))\b", re.IGNORECASE)


# Asking for a verdict on oneself, as opposed to asking about the field "for someone like me".
_ABOUT_ME = re.compile(
    r"\b((what )?(does|would) (that|this|it) mean for me|recommend (me|for me)|(would|do) you recommend|"
    r"(suits?|fits?) me( better| best| more)?|(right|good|best|better) (fit |choice |path |one )?for me|"
    r"what about me|(which|what) (one|path|track|role|career|of (the|these|them|the two)\b.{0,12})"
    r"( is| would be| should i| fits| suits)|so which (one|is it)|where (do|would|will|could) i (fit|stand|belong)|"
    r"is (that|it) me|(does|would|will) (that|this|it) change (anything|things|the verdict|your answer)|"
    r"(should|would|could) i (go|pick|choose|do|try) (for )?(ai|ml)\b.{0,25}\bor\b)\b",
    re.IGNORECASE)


def self_mentions(text: str) -> int:
    """How often the text speaks of the writer (I, my, me...): a self-description has several."""
    return len(_SELF.findall(text))


# The bare choice, asked after describing oneself: "so, AI or ML?"
_BARE_CHOICE = re.compile(r"^\W*((given|with) (that|this)|so|ok(ay)?|then|and)?\W*(ai|ml)( engineer\w*)? or "
                          r"(ai|ml)( engineer\w*)?\W*$", re.IGNORECASE)


# "...maths bores me. which path?": the question that closes a self-description.
_WHICH_AT_END = re.compile(r"\b(which|what)( one| path| track| role| career| way| direction)s?( then| now| for me|"
                           r" should i (take|pick|choose|go for))?\W*$", re.IGNORECASE)


def about_me(text: str) -> bool:
    """A question about the writer's own fit ("what does that mean for me?"), answerable from what they said."""
    text = spell_out(text)  # "which one do u recommend"
    return bool(_ABOUT_ME.search(text) or _FIT_QUESTION.search(text) or _BARE_CHOICE.search(text) or
                _WHICH_AT_END.search(text))
