"""The fit quiz: "AI engineer, ML engineer, or neither for now?" as buttons, scores and a plan.

The brain calls `QuizEngine.handle_command` / `handle_action`; the CLI calls `score_sheet` and
`run_terminal_quiz`. Everything here is platform-neutral.
"""

from bot.quiz.engine import QUIZ_COMMANDS, QuizEngine
from bot.quiz.model import QuizDefinition, QuizDefinitionError, load_quiz_definition
from bot.quiz.plan import SkillCatalog, load_skill_catalog
from bot.quiz.result import QuizResult
from bot.quiz.terminal import run_terminal_quiz

__all__ = [
    "QUIZ_COMMANDS",
    "QuizDefinition",
    "QuizDefinitionError",
    "QuizEngine",
    "QuizResult",
    "SkillCatalog",
    "load_quiz_definition",
    "load_skill_catalog",
    "run_terminal_quiz",
]
