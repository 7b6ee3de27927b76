"""Building, saving and loading the knowledge index without pickle.

On disk an index is a folder with FAISS's own file (`index.faiss`, written by `faiss.write_index`),
the passages as JSON (`docstore.json`) and a `manifest.json`. The manifest records the format
version, the embedding model and dimension, the chunker version, the FAISS index type, a SHA-256
of every source file and of both index files. Loading reads numbers and JSON only, so nothing in
the data folder is ever executed; the hashes still decide whether an index is ours and current. An
index in an older format (the pickled LangChain docstore) is rebuilt from the sources, never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.chunking import CHUNKER_VERSION, Chunk, chunk_document, split_units
from knowledge.documents import file_digest, iter_source_files, load_document
from knowledge.embeddings import MODEL_NAME, MiniLMEmbeddings

__all__ = ["FORMAT_VERSION", "IndexError_", "KnowledgeIndex", "build_index", "ensure_index", "index_status"]

FORMAT_VERSION = 3
ARTIFACTS = ("index.faiss", "docstore.json")
# Up to this many vectors an exact (flat) search costs a millisecond or two; above it an HNSW graph
# answers in a fraction of that with recall@5 close to exact (docs/performance.md).
HNSW_ABOVE = 20_000
_log = logging.getLogger(__name__)


class IndexError_(RuntimeError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The index cannot be built or loaded; the message says why in one line."""


@dataclass
class KnowledgeIndex:
    """A loaded index: the FAISS index, the texts behind its vectors, and the chunks in index order."""

    faiss: Any  # faiss.Index; position i holds the vector of docs[i]
    docs: list[dict[str, Any]]  # {"id", "text", "meta"} per vector
    chunks: list[Chunk]
    manifest: dict[str, Any]
    embeddings: MiniLMEmbeddings
    vector_to_chunk: list[int]  # FAISS position -> index into `chunks` (units point at their chunk)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_fingerprint(sources: list[Path]) -> dict[str, str]:
    """Content hash of every indexable file, keyed by a path relative to its source folder."""
    files: dict[str, str] = {}
    for folder in sources:
        if not folder.is_dir():
            raise IndexError_(f"source folder not found: {folder}")
        for path in iter_source_files(folder):
            files[f"{folder.name}/{path.relative_to(folder)}"] = file_digest(path)
    return files


def index_status(index_dir: Path, sources: list[Path], embeddings: MiniLMEmbeddings | None = None) -> str:
    """'fresh', or a short reason the index must be (re)built."""
    manifest_path = index_dir / "manifest.json"
    if not manifest_path.exists():
        return "missing"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError):
        return "unreadable manifest"
    model_name = embeddings.model_name if embeddings else MODEL_NAME
    if manifest.get("format_version") != FORMAT_VERSION:
        return "format changed"
    if manifest.get("model") != model_name or manifest.get("chunker_version") != CHUNKER_VERSION:
        return "model or chunker changed"
    if manifest.get("files") != source_fingerprint(sources):
        return "sources changed"
    for name, digest in manifest.get("artifacts", {}).items():
        artifact = index_dir / name
        if not artifact.exists() or _sha(artifact) != digest:
            return f"{name} missing or modified"
    return "fresh"


def build_index(sources: list[Path], out_dir: Path, embeddings: MiniLMEmbeddings, *,
                hnsw_above: int = HNSW_ABOVE, progress: bool = False) -> dict[str, Any]:
    """Chunk, embed and save; the folder is replaced atomically so readers never see half an index."""
    import faiss
    import numpy as np

    started = time.perf_counter()
    chunks: list[Chunk] = []
    for folder in sources:
        if not folder.is_dir():
            raise IndexError_(f"source folder not found: {folder}")
        for path in iter_source_files(folder):
            try:
                chunks.extend(chunk_document(load_document(path)))
            except Exception as exc:  # one bad file must not sink the whole build
                _log.warning("skipping %s: %s", path, exc)
    if not chunks:
        raise IndexError_(f"no indexable text (md, txt, html, pdf) in {', '.join(map(str, sources))}")

    # Small-to-big: besides each chunk, its single sentences and list items are embedded too and
    # point back at the chunk. A question about one line of a list ("what do they monitor?")
    # then matches that line closely instead of being diluted by the rest of the chunk.
    docs: list[dict[str, Any]] = []
    for c in chunks:
        meta = {"doc_id": c.doc_id, "title": c.title, "url": c.url, "heading": c.heading, "body": c.body, "author": c.author,
                "kind": "chunk", "parent": c.chunk_id}
        docs.append({"id": c.chunk_id, "text": c.text, "meta": meta})
        units = split_units(c.body)
        if len(units) > 1:
            header = f"{c.title} — {c.heading}" if c.heading else c.title
            for j, unit in enumerate(units):
                docs.append({"id": f"{c.chunk_id}/{j}", "text": f"{header}\n{unit}",
                             "meta": {"kind": "unit", "parent": c.chunk_id}})
    report = _progress_reporter(len(docs)) if progress else None
    vectors = np.asarray(embeddings.embed_documents([d["text"] for d in docs], progress=report), dtype="float32")
    embed_seconds = time.perf_counter() - started
    index, kind = _faiss_index(vectors, hnsw_above)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".index-", dir=out_dir.parent))
    faiss.write_index(index, str(staging / "index.faiss"))
    (staging / "docstore.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": embeddings.model_name,
        "dimension": int(vectors.shape[1]),
        "chunker_version": CHUNKER_VERSION,
        "faiss_index": kind,
        "sources": [str(s) for s in sources],
        "files": source_fingerprint(sources),
        "chunks": len(chunks),
        "vectors": len(docs),
        "artifacts": {name: _sha(staging / name) for name in ARTIFACTS},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embed_seconds": round(embed_seconds, 2),
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if out_dir.exists():
        backup = out_dir.with_name(out_dir.name + ".old")
        shutil.rmtree(backup, ignore_errors=True)
        out_dir.rename(backup)
        staging.rename(out_dir)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        staging.rename(out_dir)
    return manifest


def _faiss_index(vectors: Any, hnsw_above: int) -> tuple[Any, str]:
    """Exact inner-product search for small corpora; an HNSW graph (same metric) above `hnsw_above`."""
    import faiss

    if len(vectors) <= hnsw_above:
        index = faiss.IndexFlatIP(vectors.shape[1])
        kind = "flat"
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        kind = "hnsw32"
    index.add(vectors)
    return index, kind


def _progress_reporter(total: int) -> Any:
    """Log the embedding progress about every 10%, for builds long enough to wonder about."""
    step = max(1, total // 10)
    last = [0]

    def report(done: int, _total: int) -> None:
        if done - last[0] >= step or done == total:
            last[0] = done
            _log.info("embedded %d of %d passages", done, total)

    return report


def load_index(index_dir: Path, embeddings: MiniLMEmbeddings) -> KnowledgeIndex:
    """Load an index this project wrote; refuses anything whose files don't match the manifest.

    FAISS reads its own binary format and the passages are JSON: nothing here can run code, and
    a pickle left in the folder by an older version is never opened.
    """
    import faiss

    manifest_path = index_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexError_(f"no readable index manifest in {index_dir}: {exc}") from None
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("dimension") != embeddings.dimension:
        raise IndexError_(f"index in {index_dir} was written by another version; rebuild it")
    for name in ARTIFACTS:
        expected = manifest.get("artifacts", {}).get(name)
        if not expected or not (index_dir / name).exists() or _sha(index_dir / name) != expected:
            raise IndexError_(f"{index_dir / name} does not match its manifest; rebuild the index")
    index = faiss.read_index(str(index_dir / "index.faiss"))
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = 128
    docs = json.loads((index_dir / "docstore.json").read_text(encoding="utf-8"))
    if index.ntotal != len(docs) or index.d != embeddings.dimension:
        raise IndexError_(f"index in {index_dir} is inconsistent with its passages; rebuild it")
    chunks: list[Chunk] = []
    position_of: dict[str, int] = {}
    parents: list[str] = []
    for doc in docs:
        meta = doc["meta"]
        parents.append(meta["parent"])
        if meta.get("kind") == "chunk":
            position_of[doc["id"]] = len(chunks)
            chunks.append(Chunk(chunk_id=doc["id"], doc_id=meta["doc_id"], title=meta["title"], url=meta.get("url", ""),
                                heading=meta.get("heading", ""), body=meta["body"],
                                author=meta.get("author", "")))
    vector_to_chunk = [position_of[p] for p in parents]
    return KnowledgeIndex(faiss=index, docs=docs, chunks=chunks, manifest=manifest, embeddings=embeddings,
                          vector_to_chunk=vector_to_chunk)


def ensure_index(index_dir: Path, sources: list[Path], embeddings: MiniLMEmbeddings) -> KnowledgeIndex:
    """Load the index, rebuilding it first when it is missing, stale or fails verification."""
    status = index_status(index_dir, sources, embeddings)
    if status != "fresh":
        _log.info("building the knowledge index (%s) into %s", status, index_dir)
        build_index(sources, index_dir, embeddings)
    try:
        return load_index(index_dir, embeddings)
    except IndexError_ as exc:
        _log.warning("%s; rebuilding", exc)
        build_index(sources, index_dir, embeddings)
        return load_index(index_dir, embeddings)
