"""Train the clause reader and the verdict model; report cross-validated scores.

    python -m bot.fit.train [--corpus knowledge/fit/corpus.jsonl] [--clauses knowledge/fit/clauses.jsonl]
                            [--out knowledge/fit/model.json]

Why a script and committed weights: training needs scikit-learn and a minute of embedding; serving
needs neither, only the numbers in model.json. The metrics written next to the model
(metrics.json) are the 5-fold cross-validated figures the README quotes, so they can be re-made.

Folds are stratified and seeded. The regularisation strength is chosen by the same folds, so the
reported figure is slightly optimistic; the held-out set in tests/eval/data is the honest check.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.evaluation import read_jsonl
from bot.fit.model import LABELS, read_text
from bot.fit.signals import NONE, SEED_STATEMENTS, SignalReader, polarity_features

_HERE = Path(__file__).resolve().parents[2] / "knowledge" / "fit"
_SEED = 7
_C_GRID = (0.03, 0.1, 0.3, 1.0)


def _logistic(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


def _clause_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[str], list[int]]:
    return ([r["clause"] for r in rows], [r["signal"] for r in rows], [1 if int(r["polarity"]) > 0 else -1 for r in rows])


def _fit_reader(texts: list[str], topics: list[str], polarities: list[int], embed: Any, c: float,
                threshold: float) -> dict[str, Any]:
    """Weights of both clause classifiers, trained on the clauses plus the seed statements."""
    seed_texts = [t for statements in SEED_STATEMENTS.values() for t in statements]
    seed_keys = [k for k, statements in SEED_STATEMENTS.items() for _ in statements]
    all_texts = texts + seed_texts
    all_topics = topics + [k.partition(":")[0] for k in seed_keys]
    all_pol = polarities + [-1 if k.endswith(":-") else 1 for k in seed_keys]
    vectors = np.asarray(embed(all_texts), dtype="float32")
    topic_model = _logistic(c).fit(vectors, all_topics)
    keep = [i for i, t in enumerate(all_topics) if t != NONE]
    polarity_model = _logistic(c).fit(polarity_features(vectors[keep], [all_texts[i] for i in keep]),
                                      [all_pol[i] for i in keep])
    sign = 1.0 if polarity_model.classes_[1] == 1 else -1.0
    return {"topics": [str(t) for t in topic_model.classes_], "topic_coef": topic_model.coef_.round(6).tolist(),
            "topic_intercept": topic_model.intercept_.round(6).tolist(),
            "polarity_coef": (sign * polarity_model.coef_[0]).round(6).tolist(),
            "polarity_intercept": float(sign * polarity_model.intercept_[0]), "min_confidence": threshold}


def score_reader(reader: SignalReader, rows: list[dict[str, Any]], embed: Any) -> dict[str, float]:
    """Accuracy of the readings the reader commits to (the ones an explanation may quote) and coverage."""
    texts, topics, polarities = _clause_rows(rows)
    predictions = reader.predict(np.asarray(embed(texts), dtype="float32"), texts)
    right = committed = exact = 0
    for (topic, polarity, confidence), want_topic, want_pol in zip(predictions, topics, polarities, strict=True):
        hit = topic == want_topic and polarity == want_pol
        exact += hit
        if topic != NONE and confidence >= reader.min_confidence:
            committed += 1
            right += hit
    return {"n": len(texts), "accuracy_all": round(exact / max(1, len(texts)), 4),
            "committed_accuracy": round(right / max(1, committed), 4),
            "coverage": round(committed / max(1, len(texts)), 4)}


def train_reader(train_rows: list[dict[str, Any]], test_rows: list[dict[str, Any]],
                 embed: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit on `train_rows`, choose C and the confidence threshold by 5-fold CV on them, score on `test_rows`.

    The test clauses (knowledge/fit/clauses.jsonl) were written by another writer and are never
    trained on, so their score is the explanation gate's honest figure.
    """
    from sklearn.model_selection import StratifiedKFold

    texts, topics, polarities = _clause_rows(train_rows)
    keys = [f"{t}:{p}" for t, p in zip(topics, polarities, strict=True)]
    folds = list(StratifiedKFold(5, shuffle=True, random_state=_SEED).split(texts, keys))
    best: tuple[float, float, float, dict[str, float]] | None = None
    for c in (0.3, 1.0, 3.0, 10.0):
        predictions: list[tuple[int, str, int, float]] = []
        for train, test in folds:
            weights = _fit_reader([texts[i] for i in train], [topics[i] for i in train],
                                  [polarities[i] for i in train], embed, c, 0.0)
            reader = SignalReader.from_dict(weights)
            held = [texts[i] for i in test]
            for i, pred in zip(test, reader.predict(np.asarray(embed(held), dtype="float32"), held), strict=True):
                predictions.append((int(i), *pred))
        for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
            committed = [(i, t, p) for i, t, p, conf in predictions if t != NONE and conf >= threshold]
            right = sum(1 for i, t, p in committed if t == topics[i] and p == polarities[i])
            acc = right / max(1, len(committed))
            coverage = len(committed) / len(texts)
            summary = {"committed_accuracy": round(acc, 4), "coverage": round(coverage, 4),
                       "accuracy_all": round(sum(1 for i, t, p, _ in predictions
                                                 if t == topics[i] and p == polarities[i]) / len(texts), 4)}
            # The lowest threshold that keeps quoted readings at least 90% right, for the widest coverage.
            rank = (acc >= 0.9, coverage if acc >= 0.9 else acc)
            if best is None or rank > (best[3]["committed_accuracy"] >= 0.9,
                                       best[3]["coverage"] if best[3]["committed_accuracy"] >= 0.9
                                       else best[3]["committed_accuracy"]):
                best = (c, threshold, acc, summary)
    assert best is not None
    c, threshold, _, cv = best
    weights = _fit_reader(texts, topics, polarities, embed, c, threshold)
    test = score_reader(SignalReader.from_dict(weights), test_rows, embed)
    return weights, {"n_train": len(texts), "C": c, "min_confidence": threshold, "cv": cv, "test": test}


def _macro_f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, dict[str, dict[str, float]]]:
    per: dict[str, dict[str, float]] = {}
    f1s = []
    for label in LABELS:
        tp = int(((pred == label) & (y == label)).sum())
        p = tp / max(1, int((pred == label).sum()))
        r = tp / max(1, int((y == label).sum()))
        per[label] = {"precision": round(p, 4), "recall": round(r, 4)}
        f1s.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return float(np.mean(f1s)), per


def _temperature(logits: np.ndarray, y_idx: np.ndarray) -> float:
    """The softmax temperature that minimises the out-of-fold negative log-likelihood."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.linspace(0.5, 4.0, 36):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = float(-logp[np.arange(len(y_idx)), y_idx].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def _ece(probs: np.ndarray, y_idx: np.ndarray, bins: int = 10) -> float:
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    total = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        sel = (conf > lo) & (conf <= lo + 1 / bins)
        if sel.any():
            total += sel.mean() * abs(float((pred[sel] == y_idx[sel]).mean()) - float(conf[sel].mean()))
    return round(total, 4)


def corpus_features(rows: list[dict[str, Any]], reader: SignalReader, embed: Any) -> np.ndarray:
    return np.vstack([read_text(row["text"], embed, reader).features for row in rows])


def train_verdict(x: np.ndarray, y: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    folds = list(StratifiedKFold(5, shuffle=True, random_state=_SEED).split(x, y))
    results = []
    for c in _C_GRID:
        oof = np.zeros((len(y), len(LABELS)))
        for train, test in folds:
            scaler = StandardScaler().fit(x[train])
            model = _logistic(c).fit(scaler.transform(x[train]), y[train])
            cols = [list(model.classes_).index(lbl) for lbl in LABELS]
            oof[test] = model.decision_function(scaler.transform(x[test]))[:, cols]
        pred = np.asarray(LABELS)[oof.argmax(axis=1)]
        f1, per = _macro_f1(y, pred)
        results.append((f1, c, oof, per))
    f1, c, oof, per = max(results, key=lambda r: r[0])
    y_idx = np.asarray([LABELS.index(v) for v in y])
    temperature = _temperature(oof, y_idx)

    def probs(t: float) -> np.ndarray:
        z = oof / t
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    scaler = StandardScaler().fit(x)
    model = _logistic(c).fit(scaler.transform(x), y)
    cols = [list(model.classes_).index(lbl) for lbl in LABELS]
    weights = {"labels": list(LABELS), "mean": scaler.mean_.round(6).tolist(),
               "scale": np.where(scaler.scale_ > 1e-4, scaler.scale_, 1.0).round(6).tolist(),
               "coef": model.coef_[cols].round(6).tolist(), "intercept": model.intercept_[cols].round(6).tolist(),
               "temperature": temperature}
    metrics = {"n": int(len(y)), "folds": 5, "C": c, "cv_macro_f1": round(f1, 4), "cv_per_label": per,
               "cv_accuracy": round(float((np.asarray(LABELS)[oof.argmax(axis=1)] == y).mean()), 4),
               "temperature": round(temperature, 3), "ece_before": _ece(probs(1.0), y_idx),
               "ece_after": _ece(probs(temperature), y_idx),
               "grid": {str(cc): round(ff, 4) for ff, cc, _, _ in results}}
    return weights, metrics


def train_describer(descriptions: list[str], questions: list[str], embed: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Is a message about the writer (background, likes, goals) or about the field? 5-fold CV, then fit.

    Positives are the corpus's self-descriptions; negatives are the answer cards' phrasings, which
    ask about the field. The brain uses it to notice a self-description with no fit question in it.
    """
    from sklearn.model_selection import StratifiedKFold

    texts = descriptions + questions
    y = np.asarray([1] * len(descriptions) + [0] * len(questions))
    x = np.asarray(embed(texts), dtype="float32")
    hits = 0
    for train, test in StratifiedKFold(5, shuffle=True, random_state=_SEED).split(x, y):
        model = _logistic(1.0).fit(x[train], y[train])
        hits += int((model.predict(x[test]) == y[test]).sum())
    model = _logistic(1.0).fit(x, y)
    weights = {"coef": model.coef_[0].round(6).tolist(), "intercept": float(model.intercept_[0])}
    return weights, {"n": int(len(y)), "cv_accuracy": round(hits / len(y), 4)}


def train_requests(rows: list[dict[str, Any]], embed: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a follow-up asks for: the person's own verdict, a plan or timeline, or a fact. 5-fold CV, then fit.

    Wording alone misleads here ("does my degree help?" is a fact question in the first person;
    "so, which one?" asks for a verdict without saying so), so a model over the sentence vector
    decides, trained on knowledge/fit/requests.jsonl. The same kind of head reads which side of the
    last topic a short follow-up asks about (knowledge/fit/facets.jsonl: downside, upside, reason,
    example or other), which a search on its few words cannot tell.
    """
    from sklearn.model_selection import StratifiedKFold

    texts = [r["text"] for r in rows]
    y = np.asarray([r["label"] for r in rows])
    x = np.asarray(embed(texts), dtype="float32")
    labels = sorted(set(y))
    best: tuple[float, float] = (-1.0, 1.0)
    for c in _C_GRID + (3.0,):
        pred = np.empty_like(y)
        for train, test in StratifiedKFold(5, shuffle=True, random_state=_SEED).split(x, y):
            pred[test] = _logistic(c).fit(x[train], y[train]).predict(x[test])
        f1, _ = _macro_f1_over(y, pred, labels)
        if f1 > best[0]:
            best = (f1, c)
    pred = np.empty_like(y)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=_SEED).split(x, y):
        pred[test] = _logistic(best[1]).fit(x[train], y[train]).predict(x[test])
    f1, per_label = _macro_f1_over(y, pred, labels)
    model = _logistic(best[1]).fit(x, y)
    weights = {"labels": [str(c) for c in model.classes_], "coef": model.coef_.round(6).tolist(),
               "intercept": model.intercept_.round(6).tolist()}
    return weights, {"n": int(len(y)), "c": best[1], "cv_macro_f1": round(f1, 4), "cv_per_label": per_label}


def _macro_f1_over(y: np.ndarray, pred: np.ndarray, labels: list[str]) -> tuple[float, dict[str, dict[str, float]]]:
    per_label: dict[str, dict[str, float]] = {}
    f1s = []
    for label in labels:
        tp = int(((pred == label) & (y == label)).sum())
        precision = tp / max(int((pred == label).sum()), 1)
        recall = tp / max(int((y == label).sum()), 1)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4)}
    return float(np.mean(f1s)), per_label


def _digest(paths: list[Path]) -> str:
    """One hash over the training files, so a test can tell the committed model matches the corpus."""
    import hashlib

    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.fit.train", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append",
                        help="labelled self-descriptions (repeatable; default corpus.jsonl and corpus_short.jsonl)")
    parser.add_argument("--clauses", type=Path, default=_HERE / "clauses_extra.jsonl",
                        help="labelled clauses to train the clause reader on")
    parser.add_argument("--clause-test", type=Path, default=_HERE / "clauses.jsonl",
                        help="labelled clauses never trained on: the explanation gate's set")
    parser.add_argument("--cards", type=Path, default=_HERE.parent / "cards.yaml",
                        help="answer cards: their phrasings are the questions the describer learns to tell apart")
    parser.add_argument("--requests", type=Path, default=_HERE / "requests.jsonl",
                        help="labelled follow-ups: own verdict, plan or question")
    parser.add_argument("--facets", type=Path, default=_HERE / "facets.jsonl",
                        help="labelled short follow-ups: downside, upside, reason, example or other")
    parser.add_argument("--out", type=Path, default=_HERE / "model.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from bot.config import Settings
    from knowledge.embeddings import MiniLMEmbeddings, default_model_cache

    started = time.perf_counter()
    embed = MiniLMEmbeddings(default_model_cache(Settings.from_env().index_dir)).embed_many_queries
    reader_weights, reader_metrics = train_reader(read_jsonl(args.clauses), read_jsonl(args.clause_test), embed)
    reader = SignalReader.from_dict(reader_weights)
    corpora = args.corpus or [p for p in (_HERE / "corpus.jsonl", _HERE / "corpus_short.jsonl") if p.exists()]
    rows = [row for path in corpora for row in read_jsonl(path)]
    x = corpus_features(rows, reader, embed)
    y = np.asarray([r["label"] for r in rows])
    verdict_weights, verdict_metrics = train_verdict(x, y)
    import yaml

    cards = yaml.safe_load(args.cards.read_text(encoding="utf-8")) or []
    describer_weights, describer_metrics = train_describer(
        [r["text"] for r in rows], [a for c in cards for a in c.get("asks") or ()], embed)
    requests_weights, requests_metrics = train_requests(read_jsonl(args.requests), embed)
    facets_weights, facets_metrics = train_requests(read_jsonl(args.facets), embed)
    meta = {"corpus": [p.name for p in corpora], "corpus_sha256": _digest(corpora), "requests": args.requests.name,
            "requests_sha256": _digest([args.requests]), "facets": args.facets.name,
            "facets_sha256": _digest([args.facets]), "clauses": args.clauses.name, "clause_test": args.clause_test.name, "trained_at": time.strftime("%Y-%m-%d"),
            "none_class": NONE}
    args.out.write_text(json.dumps({"meta": meta, "signals": reader_weights, "verdict": verdict_weights,
                                    "describer": describer_weights, "requests": requests_weights,
                                    "facets": facets_weights}))
    metrics = {"clause_reader": reader_metrics, "verdict": verdict_metrics, "describer": describer_metrics,
               "requests": requests_metrics, "facets": facets_metrics,
               "seconds": round(time.perf_counter() - started, 1)}
    args.out.with_name("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))  # noqa: T201 - a training script reports on stdout
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
