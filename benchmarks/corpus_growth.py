"""Corpus growth: build and query cost at 1x, 10x and 50x the articles. Run by hand, never as a test.

    .venv/bin/python benchmarks/corpus_growth.py --factors 1 10 50 [--json] [--out DIR]

Each factor's build runs in its own process (so peak memory is that build's alone), and its queries in
another, started fresh on the built index as a server would be (so the RSS is a serving process's). The corpus is the
project's articles copied N times; each copy gets its own id and a title suffix, so every chunk and
sentence text is distinct and really embedded. Per factor it reports: vectors, the FAISS index type
chosen from the size, build seconds, peak RSS of the build, index size on disk, query p50/p99 of the
floor (query embedding + hybrid search) and of the keyword (BM25) part alone, RSS after loading the
index as a server would, and recall@5 of the approximate (HNSW) index against exact (flat) search
over the same vectors, with both indexes' dense search p50.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _copy_corpus(factor: int, dest: Path) -> None:
    dest.mkdir(parents=True)
    for article in sorted((ROOT / "knowledge" / "articles").glob("*.md")):
        text = article.read_text(encoding="utf-8")
        for copy in range(factor):
            if copy == 0:
                out = text
            else:
                out = re.sub(r"^id: (.+)$", rf"id: \1-copy{copy}", text, count=1, flags=re.M)
                out = re.sub(r'^title: "(.+)"$', rf'title: "\1 (edition {copy + 1})"', out, count=1, flags=re.M)
            (dest / f"{article.stem}-{copy}.md").write_text(out, encoding="utf-8")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def build_factor(factor: int, work: Path, model_cache: Path) -> dict:
    from knowledge.embeddings import MiniLMEmbeddings
    from knowledge.index import build_index

    source, out = work / "articles", work / "index"
    _copy_corpus(factor, source)
    embeddings = MiniLMEmbeddings(model_cache)
    embeddings.warm_up()
    started = time.perf_counter()
    manifest = build_index([source], out, embeddings, progress=True)
    build_seconds = time.perf_counter() - started
    return {
        "factor": factor, "articles": len(list(source.glob("*.md"))), "vectors": manifest["vectors"],
        "index_type": manifest["faiss_index"], "build_seconds": round(build_seconds, 1),
        "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "disk_mb": round(sum(p.stat().st_size for p in out.iterdir()) / 1e6, 1),
    }


def query_factor(work: Path, model_cache: Path) -> dict:
    import faiss
    import numpy as np

    from bot.bench import bench_questions
    from knowledge.embeddings import MiniLMEmbeddings
    from knowledge.index import load_index
    from knowledge.retriever import HybridRetriever
    from knowledge.text import tokenize

    embeddings = MiniLMEmbeddings(model_cache)
    index = load_index(work / "index", embeddings)
    retriever = HybridRetriever(index)
    questions = bench_questions(200, seed=11)
    floor, keyword = [], []
    for q in questions:
        t = time.perf_counter()
        retriever.search(q, 5)
        floor.append(time.perf_counter() - t)
        tokens = tokenize(q)
        t = time.perf_counter()
        retriever._bm25.get_scores(tokens)
        keyword.append(time.perf_counter() - t)

    serving_rss = _rss_mb()  # a server's: index loaded, model warm, 200 questions searched
    old_keyword: list[float] = []
    try:  # the pure-Python scorer this replaced, same tokens, for the side-by-side column
        from rank_bm25 import BM25Okapi

        old = BM25Okapi([tokenize(c.text) for c in retriever.chunks])
        for q in questions[:50]:
            tokens = tokenize(q)
            t = time.perf_counter()
            old.get_scores(tokens)
            old_keyword.append(time.perf_counter() - t)
    except ImportError:
        pass
    vectors = np.vstack([index.faiss.reconstruct(i) for i in range(index.faiss.ntotal)]).astype("float32")
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(vectors)
    hnsw.hnsw.efSearch = 128
    qvecs = np.asarray(embeddings.embed_many_queries(questions), dtype="float32")
    hits, dense = 0, {"flat": [], "hnsw": []}
    for row in qvecs:
        t = time.perf_counter()
        _, exact = flat.search(row.reshape(1, -1), 5)
        dense["flat"].append(time.perf_counter() - t)
        t = time.perf_counter()
        _, approx = hnsw.search(row.reshape(1, -1), 5)
        dense["hnsw"].append(time.perf_counter() - t)
        hits += len(set(exact[0]) & set(approx[0]))
    return {
        "floor_ms": {"p50": round(statistics.median(floor) * 1000, 2), "p99": round(_percentile(floor, 99) * 1000, 2)},
        "keyword_ms_p50": round(statistics.median(keyword) * 1000, 3),
        "rank_bm25_ms_p50": round(statistics.median(old_keyword) * 1000, 3) if old_keyword else None,
        "dense_ms_p50": {k: round(statistics.median(v) * 1000, 3) for k, v in dense.items()},
        "hnsw_recall_at_5_vs_flat": round(hits / (5 * len(questions)), 4),
        "rss_after_queries_mb": round(serving_rss),
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--model-cache", type=Path, default=ROOT / "data" / "model",
                        help="folder of the ONNX export (made on first use; needs the build extra then)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # internal: build one factor into --work
    parser.add_argument("--query", action="store_true", help=argparse.SUPPRESS)  # internal: query --work
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build_factor(args.build, args.work, args.model_cache)))
        return 0
    if args.query:
        print(json.dumps(query_factor(args.work, args.model_cache)))
        return 0
    rows = []
    for factor in args.factors:
        work = Path(tempfile.mkdtemp(prefix=f"careerbot-growth-{factor}x-"))
        row: dict = {}
        try:
            for step in (["--build", str(factor)], ["--query"]):
                done = subprocess.run([sys.executable, __file__, *step, "--work", str(work),
                                       "--model-cache", str(args.model_cache)], capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stderr, file=sys.stderr)
                    return 1
                row |= json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows.append(row)
        if not args.json:
            print(_row(rows[-1]), flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


def _row(r: dict) -> str:
    return (f"{r['factor']:>3}x  {r['articles']:>5} articles  {r['vectors']:>6} vectors  {r['index_type']:<7} "
            f"build {r['build_seconds']:>7} s  peak {r['build_peak_rss_mb']:>5} MB  disk {r['disk_mb']:>6} MB  "
            f"floor p50/p99 {r['floor_ms']['p50']}/{r['floor_ms']['p99']} ms  "
            f"bm25 p50 sparse {r['keyword_ms_p50']} / rank_bm25 {r['rank_bm25_ms_p50']} ms  "
            f"dense p50 flat {r['dense_ms_p50']['flat']} / hnsw {r['dense_ms_p50']['hnsw']} ms  "
            f"hnsw recall@5 {r['hnsw_recall_at_5_vs_flat']}  serving rss {r['rss_after_queries_mb']} MB")


if __name__ == "__main__":
    raise SystemExit(main())
