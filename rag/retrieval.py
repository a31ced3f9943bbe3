"""Hybrid retrieval over one loaded index: dense (FAISS vectors) + BM25, fused, then refined.

A search runs in two stages. First stage: the question's cosine against every chunk
vector and its BM25 score over the same chunks (`rag.lexical`), fused by reciprocal rank
(RRF) or by blending min-max-normalised scores. Second stage (pseudo-relevance feedback,
on by default): the top fused chunks expand the BM25 query (RM3) and move the query vector
towards their centroid (Rocchio), and both sides are scored and fused again. Optional MMR
diversifies the chunk list. `search` returns chunk `Hit`s; `search_documents` aggregates
each side to documents first (max or sum of the best chunks) for document-level
benchmarks, and by default replaces the BM25 side with BM25 over whole documents (a second
bm25s index over title + full text, `doc_bm25_weight`). `Hit.dense` and `Hit.bm25` are
always the *original* question's scores, so relevance gating does not shift with feedback
settings. `LangChainRetriever` wraps it as a LangChain `BaseRetriever`. Building the index is left to `rag.indexing`; what to do with
the hits (prompting, refusal) to `rag.assistant`.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from rag.chunking import Chunk, embedding_text
from rag.embedding import Embedder
from rag.errors import ConfigError
from rag.lexical import DEFAULT_ACRONYMS, LexicalIndex
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
class DocHit:
    """One retrieved document (chunks aggregated): fused score and rank."""

    doc_id: str
    score: float
    rank: int


@dataclass(frozen=True)
class RetrievalConfig:
    """Every retrieval choice; defaults are the ones tuned in docs/retrieval.md."""

    candidates: int = 200  # per side, before fusion (raised to k when k is larger)
    fusion: Literal["rrf", "blend"] = "blend"
    rrf_k: int = 60
    dense_weight: float = 0.5
    bm25_weight: float = 0.5
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    title_repeat: int = 1  # extra copies of the title in the BM25 text (field weighting)
    # Second stage: pseudo-relevance feedback from the top fused first-pass chunks.
    feedback_docs: int = 3  # 0 switches feedback off
    rm3_terms: int = 10
    rm3_mix: float = 0.1
    rocchio_beta: float = 0.3  # weight of the feedback centroid added to the query vector
    # Documents: how chunk scores become a document score ("max", or sum of the best n).
    doc_aggregation: Literal["max", "sum"] = "max"
    doc_top_chunks: int = 2
    # Documents: share of a whole-document BM25 (title + full text, one bm25s index over
    # articles) in the BM25 side of document ranking; the rest is the chunk BM25 aggregate.
    # Only `search_documents` uses it (chunk search is unaffected); rag.pgsearch ignores it.
    doc_bm25_weight: float = 1.0
    mmr_lambda: float = 1.0  # 1.0 = off; lower trades relevance for diversity among chunks
    expand_acronyms: bool = True  # BM25 query also gets "DS" <-> "data science" etc.

    def __post_init__(self) -> None:
        if self.fusion not in ("rrf", "blend"):
            raise ConfigError(f"fusion must be 'rrf' or 'blend', not {self.fusion!r} (RAG_FUSION)")
        if self.doc_aggregation not in ("max", "sum"):
            raise ConfigError(f"doc_aggregation must be 'max' or 'sum', not {self.doc_aggregation!r}")
        if not 0.0 <= self.doc_bm25_weight <= 1.0:
            raise ConfigError("doc_bm25_weight must be between 0 and 1 (0 switches it off)")
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ConfigError("mmr_lambda must be between 0 and 1 (1 switches MMR off)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HybridRetriever:
    """Searches one `IndexData`. Build it once per index generation; searching is read-only
    and safe from several threads."""

    def __init__(self, data: IndexData, embedder: Embedder, config: RetrievalConfig | None = None):
        self.data = data
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        cfg = self.config
        self._lexical: LexicalIndex | None = None
        if data.chunks:
            texts = []
            for c in data.chunks:
                title = data.articles[c.doc_id].title
                texts.append("\n".join([title] * cfg.title_repeat + [embedding_text(title, c)]))
            self._lexical = LexicalIndex(texts, k1=cfg.bm25_k1, b=cfg.bm25_b,
                                         acronyms=DEFAULT_ACRONYMS if cfg.expand_acronyms else None)
        # Chunk row -> document number, for aggregating chunk scores to documents.
        self._doc_ids = sorted({c.doc_id for c in data.chunks})
        number = {d: i for i, d in enumerate(self._doc_ids)}
        self._row_doc = np.array([number[c.doc_id] for c in data.chunks], dtype=np.int64)
        # Whole-document BM25 (same order as _doc_ids), built on the first document search.
        self._doc_lexical: LexicalIndex | None = None
        self._doc_lexical_lock = threading.Lock()

    # --- public ---------------------------------------------------------------------------
    def search(self, question: str, k: int = 4, *, query_vector: np.ndarray | None = None) -> list[Hit]:
        """Top `k` chunks for `question`, best first (see the module docstring).
        `query_vector`: the question already embedded with `embed_query`, so a caller that
        needs the vector too embeds it once (~0.1 s with EmbeddingGemma on 2 cores)."""
        if not self.data.chunks:
            return []
        dense0, bm250, dense, bm25, _ = self._scores(question, query_vector)
        n = max(self.config.candidates, k)
        fused = self._fuse(dense, bm25, n)
        order = sorted(fused, key=lambda r: -fused[r])
        if self.config.mmr_lambda < 1.0:
            order = self._mmr(order[: max(n, k)], fused, k)
        hits = []
        for rank, row in enumerate(order[:k]):
            chunk = self.data.chunks[row]
            hits.append(Hit(chunk, self.data.articles[chunk.doc_id].title, fused[row],
                            float(dense0[row]), float(bm250[row]), rank + 1))
        return hits

    def search_documents(self, question: str, k: int = 10) -> list[DocHit]:
        """Top `k` documents: each side's chunk scores aggregated per document, then fused."""
        if not self.data.chunks:
            return []
        _, _, dense, bm25, feedback = self._scores(question)
        dense_doc, bm25_doc = self._aggregate(dense), self._aggregate(bm25)
        w = self.config.doc_bm25_weight
        if w > 0:
            bm25_doc = (1 - w) * bm25_doc + w * self._doc_bm25(question, feedback)
        fused = self._fuse(dense_doc, bm25_doc, max(self.config.candidates, k))
        order = sorted(fused, key=lambda i: -fused[i])[:k]
        return [DocHit(self._doc_ids[i], fused[i], r + 1) for r, i in enumerate(order)]

    # --- stages -----------------------------------------------------------------------------
    def _scores(self, question: str, qvec: np.ndarray | None = None) -> tuple[
            np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, float]]]:
        """(dense, bm25) of the original question and (dense, bm25) after feedback, per chunk,
        and the feedback chunks with their first-pass fused scores (empty when feedback is off)."""
        cfg = self.config
        qvec = self.embedder.embed_query(question) if qvec is None else qvec
        dense = self.data.vectors @ qvec
        terms = self._lexical.query_terms(question) if self._lexical else {}
        bm25 = self._lexical.scores(terms) if self._lexical else np.zeros(len(dense), np.float32)
        if cfg.feedback_docs <= 0 or (cfg.rocchio_beta <= 0 and cfg.rm3_mix <= 0):
            return dense, bm25, dense, bm25, []
        first = self._fuse(dense, bm25, max(cfg.candidates, cfg.feedback_docs))
        top = sorted(first, key=lambda r: -first[r])[: cfg.feedback_docs]
        dense2, bm252 = dense, bm25
        if cfg.rocchio_beta > 0 and top:
            # Rocchio: the centroid of the top chunks pulls the query towards the topic's
            # vocabulary as the corpus writes it (claims vs abstracts, questions vs articles).
            q2 = qvec + cfg.rocchio_beta * self.data.vectors[top].mean(axis=0)
            dense2 = self.data.vectors @ (q2 / (np.linalg.norm(q2) or 1.0))
        if self._lexical is not None and cfg.rm3_mix > 0 and terms and top:
            weights = [first[r] for r in top]
            expanded = self._lexical.expand(terms, top, weights, terms=cfg.rm3_terms, mix=cfg.rm3_mix)
            bm252 = self._lexical.scores(expanded)
        return dense, bm25, dense2, bm252, [(r, first[r]) for r in top]

    def _doc_bm25(self, question: str, feedback: list[tuple[int, float]]) -> np.ndarray:
        """BM25 of every whole document (title + full text), in `_doc_ids` order. With RM3 on,
        the query is expanded from the documents of the feedback chunks, as the chunk side is."""
        cfg = self.config
        if self._doc_lexical is None:
            with self._doc_lexical_lock:
                if self._doc_lexical is None:
                    texts = []
                    for d in self._doc_ids:
                        a = self.data.articles[d]
                        texts.append("\n".join([a.title] * (cfg.title_repeat + 1) + [a.text]))
                    self._doc_lexical = LexicalIndex(
                        texts, k1=cfg.bm25_k1, b=cfg.bm25_b,
                        acronyms=DEFAULT_ACRONYMS if cfg.expand_acronyms else None)
        lex = self._doc_lexical
        terms = lex.query_terms(question)
        if cfg.rm3_mix > 0 and cfg.rm3_terms > 0 and terms and feedback:
            docs: dict[int, float] = {}
            for row, score in feedback:  # best chunk first: a document keeps its best score
                docs.setdefault(int(self._row_doc[row]), score)
            terms = lex.expand(terms, list(docs), list(docs.values()), terms=cfg.rm3_terms, mix=cfg.rm3_mix)
        return lex.scores(terms)

    def _fuse(self, dense: np.ndarray, bm25: np.ndarray, n: int) -> dict[int, float]:
        """Fused scores of the union of both sides' top `n` (row -> score)."""
        cfg = self.config
        n = min(n, len(dense))
        d_top = _top(dense, n)
        b_top = [r for r in _top(bm25, n) if bm25[r] > 0]  # no matching term: not a candidate
        union = set(d_top) | set(b_top)
        return fuse_ranked(d_top, b_top, {r: float(dense[r]) for r in union},
                           {r: float(bm25[r]) for r in union}, cfg)

    def _aggregate(self, chunk_scores: np.ndarray) -> np.ndarray:
        """Per-document score from its chunks: the best one, or the sum of the best n."""
        n_docs = len(self._doc_ids)
        if self.config.doc_aggregation == "max" or self.config.doc_top_chunks <= 1:
            out = np.full(n_docs, -np.inf, dtype=np.float32)
            np.maximum.at(out, self._row_doc, chunk_scores)
            return out
        # Sum of the best n chunks: sort rows by (doc, -score) and keep each doc's first n.
        order = np.lexsort((-chunk_scores, self._row_doc))
        docs = self._row_doc[order]
        starts = np.r_[0, np.flatnonzero(np.diff(docs)) + 1]
        rank_in_doc = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        keep = order[rank_in_doc < self.config.doc_top_chunks]
        out = np.zeros(n_docs, dtype=np.float32)
        np.add.at(out, self._row_doc[keep], np.maximum(chunk_scores[keep], 0.0))
        return out

    def _mmr(self, rows: list[int], fused: dict[int, float], k: int) -> list[int]:
        """Maximal marginal relevance over `rows`: relevance (fused, scaled to 0..1) minus
        similarity to chunks already picked, so near-duplicate passages do not fill the top."""
        lam = self.config.mmr_lambda
        vecs = self.data.vectors[rows]
        rel = np.array([fused[r] for r in rows], dtype=np.float32)
        rel = (rel - rel.min()) / ((rel.max() - rel.min()) or 1.0)
        picked: list[int] = []
        max_sim = np.zeros(len(rows), dtype=np.float32)  # nothing picked yet: no penalty
        left = np.ones(len(rows), dtype=bool)
        for _ in range(min(k, len(rows))):
            gain = lam * rel - (1 - lam) * max_sim
            gain[~left] = -np.inf
            i = int(np.argmax(gain))
            picked.append(i)
            left[i] = False
            max_sim = np.maximum(max_sim, vecs @ vecs[i])
        return [rows[i] for i in picked] + [r for i, r in enumerate(rows) if left[i]]


def _top(scores: np.ndarray, n: int) -> list[int]:
    """Indices of the `n` highest scores, best first."""
    if n >= len(scores):
        return [int(i) for i in np.argsort(-scores, kind="stable")]
    part = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]


def fuse_ranked(d_top: list[Any], b_top: list[Any], dense: dict[Any, float], bm25: dict[Any, float],
                cfg: RetrievalConfig) -> dict[Any, float]:
    """Fuse two ranked candidate lists (best first) into {key: score}. RRF uses ranks only.
    Blend: each side min-max normalised over its own top list (so a weak side's noise floor
    maps to 0), then a weighted sum over the union; a key a side did not score counts as that
    side's floor. Shared by the in-memory retriever and `rag.pgsearch`."""
    fused: dict[Any, float] = {}
    if cfg.fusion == "rrf":
        for rank, row in enumerate(d_top):
            fused[row] = fused.get(row, 0.0) + cfg.dense_weight / (cfg.rrf_k + rank + 1)
        for rank, row in enumerate(b_top):
            fused[row] = fused.get(row, 0.0) + cfg.bm25_weight / (cfg.rrf_k + rank + 1)
        return fused
    union = set(d_top) | set(b_top)
    for side, top, w in ((dense, d_top, cfg.dense_weight), (bm25, b_top, cfg.bm25_weight)):
        if not top:
            continue
        hi, lo = side[top[0]], side[top[-1]]
        span = (hi - lo) or 1.0
        for row in union:
            fused[row] = fused.get(row, 0.0) + w * max(side.get(row, lo) - lo, 0.0) / span
    return fused
