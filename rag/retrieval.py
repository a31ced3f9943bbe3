"""Hybrid retrieval over one loaded index: dense (FAISS) + BM25 (bm25s), fused by RRF.

`HybridRetriever.search` returns `Hit`s, best first, each carrying both the dense cosine
and the BM25 score so callers can gate on relevance. `LangChainRetriever` wraps it as a
LangChain `BaseRetriever` for people who compose their own chains. Building the index is
left to `rag.indexing`; what to do with the hits (prompting, refusal) to `rag.assistant`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np
import Stemmer
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.chunking import Chunk, embedding_text
from rag.embedding import Embedder
from rag.store import IndexData


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk. `score` is the fused score; `dense`/`bm25` the raw ones."""

    chunk: Chunk
    title: str
    score: float
    dense: float
    bm25: float
    rank: int

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.75


class HybridRetriever:
    """Searches one `IndexData`. Build it once per index generation; searching is read-only
    and safe from several threads."""

    def __init__(self, data: IndexData, embedder: Embedder, config: RetrievalConfig | None = None):
        self.data = data
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25: bm25s.BM25 | None = None
        if data.chunks:
            texts = [embedding_text(data.articles[c.doc_id].title, c) for c in data.chunks]
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
            self._bm25 = bm25s.BM25(k1=self.config.bm25_k1, b=self.config.bm25_b)
            self._bm25.index(tokens, show_progress=False)

    def search(self, question: str, k: int = 4) -> list[Hit]:
        """Top `k` chunks for `question`, fused from dense and BM25 rankings."""
        if not self.data.chunks:
            return []
        n = min(self.config.candidates, len(self.data.chunks))
        qvec = self.embedder.embed_query(question)
        dense = self.data.search(qvec, len(self.data.chunks) if n < 1 else n)
        dense_scores = {row: s for row, s in dense}
        bm25_all = self._bm25_scores(question)
        bm25_top = np.argsort(-bm25_all)[:n] if bm25_all is not None else np.array([], dtype=int)
        fused: dict[int, float] = {}
        cfg = self.config
        for rank, (row, _) in enumerate(dense):
            fused[row] = fused.get(row, 0.0) + cfg.dense_weight / (cfg.rrf_k + rank + 1)
        for rank, row in enumerate(bm25_top):
            if bm25_all[row] <= 0:
                break
            fused[int(row)] = fused.get(int(row), 0.0) + cfg.bm25_weight / (cfg.rrf_k + rank + 1)
        order = sorted(fused, key=lambda r: -fused[r])[:k]
        missing = [r for r in order if r not in dense_scores]
        if missing:  # BM25-only hits still get a true cosine, used for refusal gating
            sims = self.data.vectors[missing] @ qvec
            dense_scores.update({r: float(s) for r, s in zip(missing, sims, strict=False)})
        hits = []
        for rank, row in enumerate(order):
            chunk = self.data.chunks[row]
            hits.append(Hit(chunk, self.data.articles[chunk.doc_id].title, fused[row],
                            float(dense_scores[row]),
                            float(bm25_all[row]) if bm25_all is not None else 0.0, rank + 1))
        return hits

    def best_dense(self, hits: list[Hit]) -> float:
        return max((h.dense for h in hits), default=0.0)

    def _bm25_scores(self, question: str) -> np.ndarray | None:
        if self._bm25 is None:
            return None
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=self._stemmer,
                                return_ids=False, show_progress=False)[0]
        if not tokens:
            return np.zeros(len(self.data.chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


def hit_to_document(hit: Hit, data: IndexData) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text,
        metadata={"doc_id": c.doc_id, "title": hit.title, "heading": c.heading, "start": c.start,
                  "end": c.end, "score": hit.score, "dense": hit.dense, "bm25": hit.bm25,
                  "chunk_id": c.chunk_id,
                  **{k: v for k, v in data.articles[c.doc_id].metadata.items() if isinstance(v, str)}},
    )


class LangChainRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain `BaseRetriever` (returns `Document`s)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    source: Any  # a callable returning the current HybridRetriever (follows index swaps)
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        retriever: HybridRetriever = self.source()
        return [hit_to_document(h, retriever.data) for h in retriever.search(query, self.k)]
