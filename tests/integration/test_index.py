"""The index on disk: build over every format, the manifest, staleness, and refusing tampered files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.runtime import Knowledge
from knowledge.index import FORMAT_VERSION, IndexError_, build_index, ensure_index, index_status, load_index
from knowledge.retriever import HybridRetriever


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "docs"
    src.mkdir()
    (src / "roles.md").write_text("---\nid: roles\ntitle: Roles\nurl: https://example.org/r\n---\n"
                                  "## Engine and car\nML engineers build the engine; AI engineers build the car.\n")
    (src / "pay.txt").write_text("Pay notes\nTotal compensation at big tech reaches $700,000 a year.\n")
    (src / "ops.html").write_text("<h2>Ops</h2><p>Production fraud models need 100ms latency.</p>")
    return src


@pytest.fixture
def embeddings(knowledge: Knowledge):
    return knowledge.index.embeddings


def test_build_writes_a_manifest_that_describes_the_index(corpus: Path, tmp_path: Path, embeddings) -> None:
    out = tmp_path / "idx"
    manifest = build_index([corpus], out, embeddings)
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["format_version"] == FORMAT_VERSION and manifest["dimension"] == 384
    assert manifest["model"].endswith("all-MiniLM-L6-v2")
    assert set(manifest["files"]) == {"docs/roles.md", "docs/pay.txt", "docs/ops.html"}
    assert set(manifest["artifacts"]) == {"index.faiss", "index.pkl"}
    assert index_status(out, [corpus], embeddings) == "fresh"
    index = load_index(out, embeddings)
    top = HybridRetriever(index).search("how much latency for fraud detection", 1)[0]
    assert "100ms" in top.text


def test_changed_or_added_sources_make_the_index_stale(corpus: Path, tmp_path: Path, embeddings) -> None:
    out = tmp_path / "idx"
    build_index([corpus], out, embeddings)
    (corpus / "pay.txt").write_text("Pay notes\nCompensation changed.\n")
    assert index_status(out, [corpus], embeddings) == "sources changed"
    rebuilt = ensure_index(out, [corpus], embeddings)
    assert index_status(out, [corpus], embeddings) == "fresh"
    assert any("changed" in c.body for c in rebuilt.chunks)


def test_tampered_pickle_is_refused_and_rebuilt(corpus: Path, tmp_path: Path, embeddings) -> None:
    out = tmp_path / "idx"
    build_index([corpus], out, embeddings)
    with (out / "index.pkl").open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(IndexError_, match="does not match its manifest"):
        load_index(out, embeddings)
    assert index_status(out, [corpus], embeddings).startswith("index.pkl")
    assert ensure_index(out, [corpus], embeddings).chunks  # rebuilt from sources, not unpickled


def test_missing_index_or_empty_sources(tmp_path: Path, embeddings) -> None:
    assert index_status(tmp_path / "nothing", [tmp_path], embeddings) == "missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IndexError_, match="no indexable text"):
        build_index([empty], tmp_path / "idx", embeddings)
    with pytest.raises(IndexError_, match="not found"):
        build_index([tmp_path / "absent"], tmp_path / "idx", embeddings)


def test_rebuild_replaces_the_folder_atomically(corpus: Path, tmp_path: Path, embeddings) -> None:
    out = tmp_path / "idx"
    build_index([corpus], out, embeddings)
    shutil.copy(corpus / "roles.md", corpus / "roles2.md")
    build_index([corpus], out, embeddings)
    assert sorted(p.name for p in out.iterdir()) == ["index.faiss", "index.pkl", "manifest.json"]
    assert not list(tmp_path.glob(".index-*")) and not (tmp_path / "idx.old").exists()


def test_fast_path_embeddings_equal_sentence_transformers(embeddings) -> None:
    import numpy as np

    texts = ["What latency do fraud systems need?", "ML engineers train models from scratch with heavy math."]
    ours = np.array(embeddings.embed_documents(texts))
    reference = embeddings._load().encode(texts, normalize_embeddings=True)
    assert np.abs(ours - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_concurrent_queries_are_batched_and_answered_in_order(embeddings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"question number {i} about AI engineering pay" for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        vectors = list(pool.map(embeddings.embed_query, questions))
    import numpy as np

    alone = np.array(embeddings.embed_documents(questions))
    # Batched with strangers (padding to their length) or alone, each question gets its own vector.
    assert np.abs(np.array(vectors) - alone).max() < 1e-5
