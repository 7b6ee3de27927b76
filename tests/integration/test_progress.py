"""Progress on long commands: the embedding wrapper reports every text and changes no vector."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from bot.progress import Bar, ProgressEmbeddings, counting, progress_bar


def test_progress_embeddings_count_every_text_and_keep_the_vectors(knowledge) -> None:
    inner = knowledge.index.embeddings
    texts = [f"what does an AI engineer do, variant {i}?" for i in range(7)]
    with Progress(console=Console(file=io.StringIO(), force_terminal=True)) as progress:
        task = progress.add_task("embedding", total=None)
        wrapped = ProgressEmbeddings(inner, Bar(progress, task))
        vectors = wrapped.embed_documents(texts)
        assert progress.tasks[0].total == 7 and progress.tasks[0].completed == 7
    assert vectors == inner.embed_documents(texts)
    assert wrapped.model_name == inner.model_name  # everything else is the inner model's


def test_quiet_or_no_terminal_draws_nothing(capsys) -> None:
    calls = []
    with progress_bar("eval", 3, quiet=True) as bar:
        counted = counting(lambda x: calls.append(x), bar)
        for i in range(3):
            counted(i)
    assert calls == [0, 1, 2]
    assert capsys.readouterr().err == ""
