"""Progress on stderr for the long commands (index build, eval, bench), off with `--quiet`.

Why wrappers and not hooks in the loops: the index builder, the evaluators and the benchmark take
callables (embeddings, search, answer); counting calls on the way through gives a true bar
without those modules knowing about terminals. Bars are drawn only on a terminal; in a pipe or a
log file rich prints nothing, so logs stay clean.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from langchain_core.embeddings import Embeddings

__all__ = ["Bar", "ProgressEmbeddings", "counting", "progress_bar", "status"]

T = TypeVar("T")


class Bar:
    """What a running bar offers its caller: count steps, learn the total late."""

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def set_total(self, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None, *, quiet: bool = False) -> Iterator[Bar]:
    """A bar of `total` steps. Quiet (or no terminal): a `Bar` that draws nothing."""
    console = _console()
    if quiet or not console.is_terminal:
        yield Bar()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield Bar(progress, task)


@contextlib.contextmanager
def status(message: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner with a message, for work whose steps cannot be counted from outside."""
    console = _console()
    if quiet or not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


def counting(fn: Callable[..., T], bar: Bar) -> Callable[..., T]:
    """`fn`, advancing the bar by one after each call."""
    def wrapped(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            bar.advance(1)
    return wrapped


class ProgressEmbeddings(Embeddings):
    """Advances a bar as the inner model reports finished batches; everything else is the inner model's."""

    def __init__(self, inner: Any, bar: Bar) -> None:
        self._inner = inner
        self._bar = bar

    def embed_documents(self, texts: list[str], *, progress: Callable[[int, int], None] | None = None) -> list[list[float]]:
        """All texts in one call (the inner model batches them by length), the bar following its reports."""
        self._bar.set_total(len(texts))
        shown = 0

        def report(done: int, total: int) -> None:
            nonlocal shown
            if done > shown:
                self._bar.advance(done - shown)
                shown = done
            if progress is not None:
                progress(done, total)

        return self._inner.embed_documents(list(texts), progress=report)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
