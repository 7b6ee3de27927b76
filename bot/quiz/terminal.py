"""The quiz in a terminal: one option number a line, so `yes 1 | careerbot quiz` runs to a result.

Why not the button engine: a terminal session is one person at one keyboard, needs no store and
no stale-button checks, and must be scriptable. It shares the definition, scoring, plan and chart
with the chat quiz through `QuizEngine.build_result`, so both give the same verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from bot.quiz import render

if TYPE_CHECKING:
    from bot.quiz.engine import QuizEngine

__all__ = ["run_terminal_quiz"]

_HELP = "Type an option number, s to skip, b to go back, q to quit."


def _plain(markdown: str) -> str:
    """Terminal text without the markdown emphasis markers."""
    return markdown.replace("**", "").replace("_(", "(").replace(")_", ")").replace("```\n", "").replace("\n```", "")


def run_terminal_quiz(engine: QuizEngine, input_stream: TextIO, output_stream: TextIO) -> int:
    """Ask every question on `output_stream`, read answers from `input_stream`; return an exit code.

    0 when the quiz ran to a result, or ended early by `q` or end of input (nothing scored);
    invalid lines are re-asked with a one-line hint.
    """
    definition = engine.definition
    questions = definition.questions
    answers: list[int | None] = [None] * len(questions)

    def say(text: str = "") -> None:
        output_stream.write(text + "\n")
        output_stream.flush()

    say(f"{definition.title}: {len(questions)} questions. {_HELP}")
    index = 0
    while index < len(questions):
        question = questions[index]
        say()
        say(f"Question {index + 1} of {len(questions)}: {question.text}")
        for i, option in enumerate(question.options, start=1):
            say(f"  {i}. {option.text}")
        while True:
            output_stream.write("> ")
            output_stream.flush()
            line = input_stream.readline()
            if not line:
                say()
                say("Input ended before the last question; nothing was scored.")
                return 0
            choice = line.strip().lower()
            if choice in ("q", "quit", "exit"):
                say("Quiz stopped; nothing was scored.")
                return 0
            if choice in ("s", "skip"):
                answers[index] = None
                index += 1
                break
            if choice in ("b", "back"):
                if index == 0:
                    say("This is the first question.")
                    continue
                index -= 1
                break
            if choice.isdigit() and 1 <= int(choice) <= len(question.options):
                answers[index] = int(choice) - 1
                index += 1
                break
            say(f"Please type a number from 1 to {len(question.options)} (or s, b, q).")

    result = engine.build_result(answers, chart_name="quiz-terminal.png")
    say()
    say(_plain(render.result_markdown(definition, result)))
    if result.chart:
        say(f"Chart: {result.chart}")
    return 0
