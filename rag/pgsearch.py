"""Hybrid retrieval inside Postgres: pgvector HNSW (cosine) + BM25 over tsvector, fused.

`PgRetriever` is the Postgres twin of `rag.retrieval.HybridRetriever` (same `search`,
`search_documents`, `data`, `config`), so the assistant, the page and the evaluation use
either. Every search runs in one read-only REPEATABLE READ transaction that first checks
the collection is still at the generation whose articles this retriever holds (else
`IndexChangedError`, and the caller reloads), so hits and article texts always come from
one corpus version. Per side, only the top candidates leave the database:

- dense: `ORDER BY embedding <=> q LIMIT n` on the HNSW index (`hnsw.ef_search` raised to 2n);
- keyword: Lucene-style BM25 computed in SQL from the GIN-matched chunks' tsvector term
  frequencies, chunk lengths and the per-collection document-frequency table; words are
  split and stop words dropped as bm25s does (`rag.pgschema.lexical_text`), then stemmed by
  Postgres' Snowball English, the same stemmer PyStemmer runs in-process;
- fusion and second stage as in the default: normalised blend (or RRF) of both sides;
  Rocchio moves the query vector towards the top chunks' vectors, fetched from the
  database; RM3 expands the BM25 query with the top chunks' terms, read from their
  tsvectors, and weighted exactly as `rag.lexical.LexicalIndex.expand` does.

Scores match the FAISS path closely, not bit for bit (HNSW is approximate; Postgres'
parser may still split a few tokens, e.g. mixed letters and digits, differently).
Storing rows is left to `rag.pgstore`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from rag.chunking import Chunk
from rag.embedding import Embedder
from rag.errors import IndexChangedError
from rag.pgschema import lexical_text
from rag.pgstore import PgStore
from rag.retrieval import DocHit, Hit, RetrievalConfig, fuse_ranked
from rag.store import IndexData


class _Session:
    """One search's transaction: the connection, the collection's tables and BM25 stats."""

    def __init__(self, conn: psycopg.Connection, store: PgStore, row: tuple[Any, ...]):
        self.conn = conn
        self.chunks, self.terms = store.tables(row[0])
        self.n_chunks, self.avg_len = float(row[4]), float(row[5])
        self.doc_of: dict[int, str] = {}


class PgRetriever:
    """Searches one generation of a `PgStore` collection. Thread-safe (a pooled connection
    per search)."""

    def __init__(self, store: PgStore, data: IndexData, embedder: Embedder, config: RetrievalConfig | None = None):
        self.store = store
        self.data = data
        self.embedder = embedder
        self.config = config or RetrievalConfig()

    # --- public ---------------------------------------------------------------------------
    def search(self, question: str, k: int = 4, *, query_vector: np.ndarray | None = None) -> list[Hit]:
        """Top `k` chunks for `question`, best first; `query_vector` as in `HybridRetriever.search`."""
        n = max(self.config.candidates, k)
        with self._session(n) as s:
            if not s.n_chunks:
                return []
            qvec, terms, dense0, bm250, dense, bm25 = self._scores(s, question, n, query_vector=query_vector)
            fused = _fuse(dense, bm25, n, self.config)
            order = sorted(fused, key=lambda r: -fused[r])[:k]
            if not order:
                return []
            rows = s.conn.execute(sql.SQL(
                "SELECT id, doc_id, ordinal, start_char, end_char, heading, text, 1 - (embedding <=> %s)"
                " FROM {} WHERE id = ANY(%s)").format(s.chunks), (qvec, order)).fetchall()
            exact_bm25 = self._bm25(s, terms, k, only=order)
        by_id = {r[0]: r for r in rows}
        hits = []
        for rank, cid in enumerate(order):
            r = by_id[cid]
            chunk = Chunk(r[1], r[2], r[3], r[4], r[5], r[6])
            hits.append(Hit(chunk, self.data.articles[chunk.doc_id].title, fused[cid], float(r[7]),
                            float(exact_bm25.get(cid, 0.0)), rank + 1))
        return hits

    def search_documents(self, question: str, k: int = 10) -> list[DocHit]:
        """Top `k` documents: each side's candidate chunk scores aggregated per document
        (from up to 1000 chunks per side), then fused."""
        n = max(self.config.candidates, k)
        depth = min(max(3 * n, n), 1000)
        with self._session(depth) as s:
            if not s.n_chunks:
                return []
            _, _, _, _, dense, bm25 = self._scores(s, question, n, depth=depth)
            doc_of = s.doc_of
        dense_doc, bm25_doc = self._aggregate(dense, doc_of), self._aggregate(bm25, doc_of)
        fused = _fuse(dense_doc, bm25_doc, n, self.config)
        order = sorted(fused, key=lambda d: -fused[d])[:k]
        return [DocHit(d, fused[d], r + 1) for r, d in enumerate(order)]

    # --- stages -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(self, n: int) -> Iterator[_Session]:
        with self.store.snapshot_session() as (conn, row):
            if row[2] != self.data.generation:
                raise IndexChangedError(
                    f"the index in {self.store.root} was updated during the search; ask again")
            # HNSW returns at most ef_search rows and the fusion wants n per side; twice n buys
            # recall: at 1M vectors ef_search 200 finds 0.93 of the true top 10, 400 finds 0.98
            # for 19 -> 36 ms (docs/BENCHMARKS.md, pgvector section). pgvector caps it at 1000.
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(min(max(2 * n, 40), 1000)),))
            yield _Session(conn, self.store, row)

    def _scores(self, s: _Session, question: str, n: int, depth: int | None = None,
                query_vector: np.ndarray | None = None) -> tuple[Any, ...]:
        """Query vector and terms, then candidate (dense, bm25) of the question and after feedback."""
        cfg = self.config
        depth = depth or n
        qvec = np.asarray(self.embedder.embed_query(question) if query_vector is None else query_vector,
                          dtype=np.float32)
        lex_question = question
        if getattr(cfg, "expand_acronyms", False):  # as the in-process BM25 query does
            from rag.lexical import DEFAULT_ACRONYMS, expand_acronyms

            lex_question = expand_acronyms(question, DEFAULT_ACRONYMS)
        terms = dict(s.conn.execute("SELECT lexeme, cardinality(positions)::float8 FROM"
                                    " unnest(to_tsvector('pmrag_english', %s))",
                                    (lexical_text(lex_question),)).fetchall())
        dense = self._dense(s, qvec, depth)
        bm25 = self._bm25(s, terms, depth)
        if cfg.feedback_docs <= 0 or (cfg.rocchio_beta <= 0 and cfg.rm3_mix <= 0):
            return qvec, terms, dense, bm25, dense, bm25
        first = _fuse(dense, bm25, max(cfg.candidates, cfg.feedback_docs), cfg)
        top = sorted(first, key=lambda r: -first[r])[: cfg.feedback_docs]
        dense2, bm252 = dense, bm25
        if cfg.rocchio_beta > 0 and top:
            vecs = [v.to_numpy() for (v,) in s.conn.execute(
                sql.SQL("SELECT embedding FROM {} WHERE id = ANY(%s)").format(s.chunks), (top,))]
            q2 = qvec + cfg.rocchio_beta * np.mean(vecs, axis=0)
            dense2 = self._dense(s, (q2 / (np.linalg.norm(q2) or 1.0)).astype(np.float32), depth)
        if cfg.rm3_mix > 0 and terms and top:
            bm252 = self._bm25(s, self._rm3(s, terms, top, [first[r] for r in top]), depth)
        return qvec, terms, dense, bm25, dense2, bm252

    def _dense(self, s: _Session, qvec: np.ndarray, n: int) -> dict[int, float]:
        rows = s.conn.execute(sql.SQL(
            "SELECT id, doc_id, 1 - (embedding <=> %s) FROM {} ORDER BY embedding <=> %s LIMIT %s"
        ).format(s.chunks), (qvec, qvec, n)).fetchall()
        s.doc_of.update((r[0], r[1]) for r in rows)
        return {r[0]: float(r[2]) for r in rows}

    def _bm25(self, s: _Session, weights: dict[str, float], n: int, only: list[int] | None = None) -> dict[int, float]:
        """BM25 (Lucene idf and length norm, like bm25s) of a weighted query, best `n` chunks."""
        if not weights:
            return {}
        cfg = self.config
        lexemes = list(weights)
        tsq = " | ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in lexemes)
        rows = s.conn.execute(sql.SQL(
            "WITH q AS (SELECT t.lexeme, q.w * ln(1 + (%(n)s - t.df + 0.5) / (t.df + 0.5)) AS wi"
            "  FROM unnest(%(lex)s::text[], %(w)s::float8[]) AS q(lexeme, w) JOIN {t} t ON t.lexeme = q.lexeme)"
            " SELECT c.id, c.doc_id, sum(q.wi * cardinality(u.positions)"
            "  / (cardinality(u.positions) + %(k1)s * (1 - %(b)s + %(b)s * c.tlen / %(avg)s))) AS score"
            " FROM {c} c CROSS JOIN LATERAL unnest(c.tsv) AS u JOIN q ON q.lexeme = u.lexeme"
            " WHERE c.tsv @@ %(tsq)s::tsquery" + (" AND c.id = ANY(%(only)s)" if only is not None else "") +
            " GROUP BY c.id ORDER BY score DESC, c.doc_id, c.ordinal LIMIT %(lim)s"
        ).format(t=s.terms, c=s.chunks), {
            "n": s.n_chunks, "lex": lexemes, "w": [float(weights[t]) for t in lexemes], "k1": cfg.bm25_k1,
            "b": cfg.bm25_b, "avg": s.avg_len, "tsq": tsq, "only": only, "lim": n}).fetchall()
        s.doc_of.update((r[0], r[1]) for r in rows)
        return {r[0]: float(r[2]) for r in rows}

    def _rm3(self, s: _Session, weights: dict[str, float], feedback: list[int],
             feedback_weights: list[float]) -> dict[str, float]:
        """RM3 as in `LexicalIndex.expand`, with term counts read from the chunks' tsvectors."""
        cfg = self.config
        rows = s.conn.execute(sql.SQL(
            "SELECT c.id, u.lexeme, cardinality(u.positions), coalesce(t.df, 0) FROM {c} c"
            " CROSS JOIN LATERAL unnest(c.tsv) AS u LEFT JOIN {t} t ON t.lexeme = u.lexeme WHERE c.id = ANY(%s)"
        ).format(c=s.chunks, t=s.terms), (feedback,)).fetchall()
        per_doc: dict[int, list[tuple[str, int, int]]] = {}
        for cid, lexeme, tf, df in rows:
            per_doc.setdefault(cid, []).append((lexeme, tf, df))
        fw = np.asarray(feedback_weights, dtype=np.float64)
        fw = fw / fw.sum() if fw.sum() > 0 else np.full(len(feedback), 1.0 / len(feedback))
        rm1: dict[str, float] = {}
        for cid, p_doc in zip(feedback, fw, strict=False):
            items = per_doc.get(cid, [])
            total = sum(tf for _, tf, _ in items) or 1
            for lexeme, tf, df in items:
                idf = np.log(1.0 + (s.n_chunks - df + 0.5) / (df + 0.5))
                rm1[lexeme] = rm1.get(lexeme, 0.0) + float(p_doc) * tf / total * float(idf)
        best = sorted(rm1.items(), key=lambda kv: -kv[1])[: cfg.rm3_terms]
        total_q = sum(weights.values())
        total_e = sum(v for _, v in best) or 1.0
        out = {t: (1 - cfg.rm3_mix) * w / total_q for t, w in weights.items()}
        for t, v in best:
            out[t] = out.get(t, 0.0) + cfg.rm3_mix * v / total_e
        return out

    def _aggregate(self, scores: dict[int, float], doc_of: dict[int, str]) -> dict[str, float]:
        """Per-document score from its candidate chunks: the best one, or the sum of the best n."""
        by_doc: dict[str, list[float]] = {}
        for cid, v in scores.items():
            by_doc.setdefault(doc_of[cid], []).append(v)
        if self.config.doc_aggregation == "max" or self.config.doc_top_chunks <= 1:
            return {d: max(v) for d, v in by_doc.items()}
        n = self.config.doc_top_chunks
        return {d: sum(max(x, 0.0) for x in sorted(v, reverse=True)[:n]) for d, v in by_doc.items()}


def _fuse(dense: dict[Any, float], bm25: dict[Any, float], n: int, cfg: RetrievalConfig) -> dict[Any, float]:
    """`HybridRetriever._fuse` over candidate dicts: a key missing from a side scored below
    that side's n-th candidate, so it adds nothing there, exactly as in the in-memory fusion."""
    d_top = sorted(dense, key=lambda r: -dense[r])[:n]
    b_top = [r for r in sorted(bm25, key=lambda r: -bm25[r])[:n] if bm25[r] > 0]
    return fuse_ranked(d_top, b_top, dense, bm25, cfg)


def eval_retriever(settings: Any, key: str, data: IndexData, embedder: Embedder,
                   config: RetrievalConfig) -> PgRetriever:
    """A retriever over `data` copied (once, no re-embedding) into collection `eval-<key>`
    of `settings.store_url`, for `pmrag eval retrieval --store URL`."""
    store = PgStore(settings.store_url, f"eval-{key}")
    with store.lock(wait=True):
        if not store.exists() or set(store.read_manifest().get("documents", {})) != set(data.articles):
            store.save(data)
    return PgRetriever(store, store.snapshot(), embedder, config)
