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
    assert set(manifest["artifacts"]) == {"index.faiss", "docstore.json"}
    assert manifest["faiss_index"] == "flat"
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


def test_tampered_files_are_refused_and_rebuilt(corpus: Path, tmp_path: Path, embeddings) -> None:
    out = tmp_path / "idx"
    build_index([corpus], out, embeddings)
    docstore = json.loads((out / "docstore.json").read_text())
    docstore[0]["text"] = "injected"
    (out / "docstore.json").write_text(json.dumps(docstore))
    with pytest.raises(IndexError_, match="does not match its manifest"):
        load_index(out, embeddings)
    assert index_status(out, [corpus], embeddings).startswith("docstore.json")
    rebuilt = ensure_index(out, [corpus], embeddings)
    assert rebuilt.chunks and all(d["text"] != "injected" for d in rebuilt.docs)


class _Boom:
    """Unpickling this writes a marker file: proof that a loader executed data from the folder."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path(self.marker).write_text, ("executed",))


def test_an_old_pickle_index_is_rebuilt_never_loaded(corpus: Path, tmp_path: Path, embeddings) -> None:
    """A format-2 folder (LangChain's pickled docstore) whose manifest hashes all match is still not opened."""
    import hashlib
    import pickle

    out = tmp_path / "idx"
    build_index([corpus], out, embeddings)
    marker = tmp_path / "executed.txt"
    (out / "index.pkl").write_bytes(pickle.dumps(_Boom(str(marker))))
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["format_version"] = 2
    manifest["artifacts"] = {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
                             for name in ("index.faiss", "index.pkl")}
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert index_status(out, [corpus], embeddings) == "format changed"
    with pytest.raises(IndexError_, match="another version"):
        load_index(out, embeddings)
    index = ensure_index(out, [corpus], embeddings)
    assert index.chunks and not marker.exists()
    assert sorted(p.name for p in out.iterdir()) == ["docstore.json", "index.faiss", "manifest.json"]


def test_large_corpora_get_an_hnsw_index_with_the_same_answers(corpus: Path, tmp_path: Path, embeddings) -> None:
    """Above the size threshold the index is HNSW; it loads without pickle and finds what flat finds."""
    flat = HybridRetriever(load_index(tmp_path / "flat", embeddings) if build_index([corpus], tmp_path / "flat", embeddings)
                           else None)
    manifest = build_index([corpus], tmp_path / "hnsw", embeddings, hnsw_above=1)
    assert manifest["faiss_index"] == "hnsw32"
    hnsw = HybridRetriever(load_index(tmp_path / "hnsw", embeddings))
    for question in ("how much latency for fraud detection", "who builds the engine", "big tech pay"):
        assert [p.chunk.chunk_id for p in hnsw.search(question, 3)] == [p.chunk.chunk_id for p in flat.search(question, 3)]


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
    assert sorted(p.name for p in out.iterdir()) == ["docstore.json", "index.faiss", "manifest.json"]
    assert not list(tmp_path.glob(".index-*")) and not (tmp_path / "idx.old").exists()


def test_concurrent_queries_are_batched_and_answered_in_order(embeddings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"question number {i} about AI engineering pay" for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        vectors = list(pool.map(embeddings.embed_query, questions))
    import numpy as np

    alone = np.array(embeddings.embed_documents(questions))
    # Batched with strangers (padding to their length) or alone, each question gets its own vector.
    assert np.abs(np.array(vectors) - alone).max() < 1e-5
