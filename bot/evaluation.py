"""Quality gates: retrieval recall@k / MRR over a golden set, and fit accuracy / macro-F1 over personas.

The same functions back `careerbot eval` and the gate tests, so the numbers in CI and the numbers an
operator sees are computed one way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from knowledge.retriever import Passage

__all__ = ["evaluate_fit", "evaluate_retrieval", "read_jsonl"]

LABELS = ("ai_engineer", "ml_engineer", "neither")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    return rows


def evaluate_retrieval(rows: Iterable[dict[str, Any]], search: Callable[[str, int], list[Passage]],
                       k: int = 5) -> dict[str, Any]:
    """A question is a hit at k when any top-k chunk contains any answer string (case-insensitive)."""
    n = hits = 0
    reciprocal = 0.0
    misses: list[str] = []
    for row in rows:
        n += 1
        answers = [a.lower() for a in row["answers"]]
        passages = search(row["question"], k)
        rank = next((i for i, p in enumerate(passages, 1) if any(a in p.text.lower() for a in answers)), None)
        if rank is not None:
            hits += 1
            reciprocal += 1.0 / rank
        else:
            misses.append(row["question"])
    return {"n": n, "k": k, "recall_at_k": round(hits / n, 4) if n else 0.0,
            "mrr": round(reciprocal / n, 4) if n else 0.0, "misses": misses}


def evaluate_fit(rows: Iterable[dict[str, Any]], classify: Callable[[str], str]) -> dict[str, Any]:
    pairs = [(row["label"], classify(row["text"])) for row in rows]
    n = len(pairs)
    per_label: dict[str, dict[str, float]] = {}
    f1s = []
    for label in LABELS:
        tp = sum(1 for gold, pred in pairs if gold == label and pred == label)
        fp = sum(1 for gold, pred in pairs if gold != label and pred == label)
        fn = sum(1 for gold, pred in pairs if gold == label and pred != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4)}
        f1s.append(f1)
    accuracy = sum(1 for gold, pred in pairs if gold == pred) / n if n else 0.0
    return {"n": n, "accuracy": round(accuracy, 4), "macro_f1": round(sum(f1s) / len(f1s), 4),
            "per_label": per_label,
            "errors": [{"gold": g, "predicted": p} for g, p in pairs if g != p]}
