"""Child process for the kill -9 test: rebuilds a real index over and over.

Uses a deterministic hashing embedder so each rebuild is fast and the kill lands in the
save phase often; the store, files and FAISS are the real ones."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embedding import Embedder
from rag.indexing import update_index


class HashEmbedder(Embedder):
    name = "hash-embedder"
    dim = 64

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.vstack(rows)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def main() -> None:
    corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings.load(corpus_dir=corpus, index_dir=index, embed_model="hash-embedder")
    embedder = HashEmbedder()
    n = 0
    while True:
        update_index(settings, embedder, full=True, wait_for_lock=True)
        n += 1
        print(f"saved {n}", flush=True)


if __name__ == "__main__":
    main()
