"""The saved index in a shared Postgres + pgvector database: `PgStore`, one collection.

Same contract as the FAISS folder (`rag.store.FaissStore`), so `rag.indexing` and
`rag.assistant` use it unchanged: a manifest (kept in a table) that a mismatched setup is
refused by, a live generation that readers follow, one writer at a time. Schema (created
on first use, version in `pmrag_schema_version`; see the README)::

    pmrag_collections(id, name, dim, generation, manifest jsonb, n_chunks, avg_len, updated_at)
    pmrag_articles(collection_id, doc_id, content_hash, title, text, metadata, page_starts)
    pmrag_chunks_<id>(id, doc_id, ordinal, start_char, end_char, heading, text,
                      embedding vector(dim) [HNSW cosine], tsv tsvector [GIN], tlen)
    pmrag_terms_<id>(lexeme, df)          document frequencies for BM25 in SQL
    text search configuration pmrag_english (Snowball English, stop words dropped before)

`save` applies one update as ONE transaction: rows of removed or changed articles are
deleted, rows of new or changed ones inserted, unchanged rows stay untouched; readers in
other processes see the old corpus or the new one, never a mix. Writers take a Postgres
advisory lock per collection. Searching is left to `rag.pgsearch`; connecting and the schema to
`rag.pgschema`; deciding what to re-embed to `rag.indexing`; choosing this store to `rag.stores`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from rag.chunking import Chunk, embedding_text
from rag.config import mask_url
from rag.documents import Article
from rag.errors import IndexLockedError, IndexMissingError, StoreUnavailableError
from rag.pgschema import LOCK_CLASS, connect, explain, lexical_text
from rag.store import FORMAT_VERSION, IndexData, check_compatible


class PgStore:
    """One collection (a named corpus) in one Postgres database."""

    def __init__(self, url: str, collection: str = "default"):
        if not collection or len(collection) > 100:
            raise StoreUnavailableError("the collection name must be 1-100 characters (RAG_COLLECTION)")
        self.url, self.collection = url, collection
        self.root = f"{mask_url(url)} (collection {collection!r})"
        self._idle: list[psycopg.Connection] = []
        self._pool_lock = threading.Lock()

    # --- connections -------------------------------------------------------------------
    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled autocommit connection; a broken one is discarded, not reused."""
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        conn = conn or connect(self.url)
        try:
            yield conn
        except psycopg.OperationalError as exc:
            conn.close()
            raise explain(exc, self.url, "use") from exc
        finally:
            if not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                with self._pool_lock:
                    if len(self._idle) < 8:
                        self._idle.append(conn)
                        conn = None
            if conn is not None:
                conn.close()

    def close(self) -> None:
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def tables(self, collection_id: int) -> tuple[sql.Identifier, sql.Identifier]:
        return sql.Identifier(f"pmrag_chunks_{collection_id}"), sql.Identifier(f"pmrag_terms_{collection_id}")

    def _collection(self, conn: psycopg.Connection) -> tuple[Any, ...] | None:
        return conn.execute("SELECT id, dim, generation, manifest, n_chunks, avg_len FROM pmrag_collections"
                            " WHERE name = %s", (self.collection,)).fetchone()

    def _missing(self) -> IndexMissingError:
        return IndexMissingError(f"no index in {self.root}: build one with `pmrag index --store URL`"
                                 " or copy one with `pmrag store migrate --from index/ --to URL`")

    # --- reading -----------------------------------------------------------------------
    def current_generation(self) -> str | None:
        with self.connection() as conn:
            row = conn.execute("SELECT generation FROM pmrag_collections WHERE name = %s",
                               (self.collection,)).fetchone()
        return row[0] if row else None

    def exists(self) -> bool:
        return self.current_generation() is not None

    def read_manifest(self, gen: str | None = None) -> dict[str, Any]:
        """The live manifest (Postgres keeps one generation per collection)."""
        with self.connection() as conn:
            row = self._collection(conn)
        if row is None:
            raise self._missing()
        return row[3]

    @contextlib.contextmanager
    def snapshot_session(self) -> Iterator[tuple[psycopg.Connection, tuple[Any, ...]]]:
        """A read-only REPEATABLE READ transaction and the collection row as of its snapshot."""
        with self.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = self._collection(conn)
            if row is None:
                raise self._missing()
            yield conn, row

    def snapshot(self, expected: dict[str, Any] | None = None) -> IndexData:
        """The live generation's manifest and articles, without chunks or vectors (those stay
        in the database and are searched there by `rag.pgsearch`)."""
        with self.snapshot_session() as (conn, row):
            if expected is not None:
                check_compatible(row[3], expected, self.root)
            articles = self._articles(conn, row[0])
        return IndexData(row[3], articles, [], np.zeros((0, row[1]), np.float32), None, row[2])

    def load(self, expected: dict[str, Any] | None = None) -> IndexData:
        """Everything, vectors included (for incremental updates and migration)."""
        with self.snapshot_session() as (conn, row):
            if expected is not None:
                check_compatible(row[3], expected, self.root)
            articles = self._articles(conn, row[0])
            chunks_t, _ = self.tables(row[0])
            chunks, vecs = [], []
            cur = conn.execute(sql.SQL("SELECT doc_id, ordinal, start_char, end_char, heading, text, embedding"
                                       " FROM {} ORDER BY doc_id, ordinal").format(chunks_t))
            for doc_id, ordinal, start, end, heading, text, emb in cur:
                chunks.append(Chunk(doc_id, ordinal, start, end, heading, text))
                vecs.append(emb.to_numpy())
        vectors = np.vstack(vecs).astype(np.float32) if vecs else np.zeros((0, row[1]), np.float32)
        return IndexData(row[3], articles, chunks, vectors, None, row[2])

    def _articles(self, conn: psycopg.Connection, cid: int) -> dict[str, Article]:
        cur = conn.execute("SELECT doc_id, title, text, content_hash, metadata, page_starts FROM pmrag_articles"
                           " WHERE collection_id = %s ORDER BY doc_id", (cid,))
        return {r[0]: Article(r[0], r[1], r[2], r[3], r[4], tuple(tuple(p) for p in r[5])) for r in cur}

    # --- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """Advisory lock per collection, held by a session of its own; a second writer
        fails fast (or waits with `wait=True`). A crashed writer's lock ends with its session."""
        conn = connect(self.url)
        try:
            fn = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
            got = conn.execute(sql.SQL("SELECT {}(%s, hashtext(%s))").format(sql.Identifier(fn)),
                               (LOCK_CLASS, self.collection)).fetchone()[0]
            if got is False:
                raise IndexLockedError(
                    f"another `pmrag index` is updating {self.root} right now; wait for it to finish"
                    " and run again (or pass --wait)")
            yield
        finally:
            conn.close()  # ending the session releases the advisory lock

    def save(self, data: IndexData) -> str:
        """Make `data` the live generation in one transaction; only changed articles' rows move.
        A connection lost on the way rolls the whole update back; the error says so."""
        try:
            return self._save(data)
        except StoreUnavailableError as exc:
            raise StoreUnavailableError(
                f"{exc}. The update was rolled back: {self.root} still serves the previous corpus;"
                " run `pmrag index` again once Postgres is reachable") from exc

    def _save(self, data: IndexData) -> str:
        dim = int(data.vectors.shape[1]) if data.vectors.ndim == 2 and len(data.vectors) else int(
            data.manifest.get("dim", 0))
        now = time.time_ns()
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}-{uuid.uuid4().hex[:4]}"
        manifest = dict(data.manifest, generation=name, format=FORMAT_VERSION,
                        index_type="pgvector.hnsw(cosine)+tsvector(english)")
        with self.connection() as conn, conn.transaction():
            row = conn.execute("SELECT id, dim, manifest FROM pmrag_collections WHERE name = %s FOR UPDATE",
                               (self.collection,)).fetchone()
            signature = ("embed_model", "chunk_tokens", "chunk_overlap", "dim")
            if row is not None and (row[1] != dim or any(row[2].get(k) != manifest.get(k) for k in signature)):
                conn.execute("DELETE FROM pmrag_collections WHERE id = %s", (row[0],))  # full rebuild
                for table in self.tables(row[0]):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
                row = None
            if row is None:
                cid = conn.execute("INSERT INTO pmrag_collections (name, dim, generation, manifest)"
                                   " VALUES (%s, %s, '', '{}') RETURNING id", (self.collection, dim)).fetchone()[0]
                self._create_tables(conn, cid, dim)
            else:
                cid = row[0]
            chunks_t, terms_t = self.tables(cid)
            old = dict(conn.execute("SELECT doc_id, content_hash FROM pmrag_articles WHERE collection_id = %s",
                                    (cid,)).fetchall())
            keep = {d for d, a in data.articles.items() if old.get(d) == a.content_hash}
            gone, new = sorted(set(old) - keep), sorted(set(data.articles) - keep)
            if gone:
                conn.execute(sql.SQL(
                    "UPDATE {t} SET df = {t}.df - x.n FROM (SELECT u.lexeme, count(*) AS n FROM {c},"
                    " unnest(tsv) AS u WHERE doc_id = ANY(%s) GROUP BY u.lexeme) x WHERE {t}.lexeme = x.lexeme"
                ).format(t=terms_t, c=chunks_t), (gone,))
                conn.execute(sql.SQL("DELETE FROM {} WHERE df <= 0").format(terms_t))
                conn.execute(sql.SQL("DELETE FROM {} WHERE doc_id = ANY(%s)").format(chunks_t), (gone,))
                conn.execute("DELETE FROM pmrag_articles WHERE collection_id = %s AND doc_id = ANY(%s)", (cid, gone))
            if new:
                self._insert(conn, cid, data, set(new))
            n, avg = conn.execute(sql.SQL("SELECT count(*), coalesce(avg(tlen), 1) FROM {}").format(chunks_t)).fetchone()
            conn.execute("UPDATE pmrag_collections SET generation = %s, manifest = %s, n_chunks = %s, avg_len = %s,"
                         " updated_at = now() WHERE id = %s",
                         (name, json.dumps(manifest, ensure_ascii=False), n, max(float(avg), 1e-6), cid))
        return name

    def _create_tables(self, conn: psycopg.Connection, cid: int, dim: int) -> None:
        chunks_t, terms_t = self.tables(cid)
        conn.execute(sql.SQL(
            "CREATE TABLE {c} (id bigserial PRIMARY KEY, doc_id text NOT NULL, ordinal int NOT NULL,"
            " start_char int NOT NULL, end_char int NOT NULL, heading text NOT NULL, text text NOT NULL,"
            " embedding vector({dim}) NOT NULL, tsv tsvector NOT NULL, tlen int NOT NULL)"
        ).format(c=chunks_t, dim=sql.Literal(max(dim, 1))))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops)").format(chunks_t))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (tsv)").format(chunks_t))
        conn.execute(sql.SQL("CREATE INDEX ON {} (doc_id, ordinal)").format(chunks_t))
        conn.execute(sql.SQL("CREATE TABLE {} (lexeme text PRIMARY KEY, df int NOT NULL)").format(terms_t))

    def _insert(self, conn: psycopg.Connection, cid: int, data: IndexData, docs: set[str]) -> None:
        chunks_t, terms_t = self.tables(cid)
        with conn.cursor().copy("COPY pmrag_articles (collection_id, doc_id, content_hash, title, text, metadata,"
                                " page_starts) FROM STDIN") as copy:
            for d in sorted(docs):
                a = data.articles[d]
                copy.write_row((cid, d, a.content_hash, a.title, a.text, json.dumps(a.metadata, ensure_ascii=False),
                                json.dumps([list(p) for p in a.page_starts])))
        conn.execute("CREATE TEMP TABLE pmrag_staging (doc_id text, ordinal int, start_char int, end_char int,"
                     " heading text, text text, lex text, embedding vector) ON COMMIT DROP")
        with conn.cursor().copy("COPY pmrag_staging FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["text", "int4", "int4", "int4", "text", "text", "text", "vector"])
            for row, c in enumerate(data.chunks):
                if c.doc_id in docs:
                    title = data.articles[c.doc_id].title
                    # What BM25 reads in the FAISS path (title once more, then embedding text).
                    lex = lexical_text(f"{title}\n{embedding_text(title, c)}")
                    copy.write_row((c.doc_id, c.ordinal, c.start, c.end, c.heading, c.text, lex,
                                    np.asarray(data.vectors[row], dtype=np.float32)))
        conn.execute(sql.SQL(
            "INSERT INTO {c} (doc_id, ordinal, start_char, end_char, heading, text, embedding, tsv, tlen)"
            " SELECT s.doc_id, s.ordinal, s.start_char, s.end_char, s.heading, s.text, s.embedding, v.tsv,"
            " (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM unnest(v.tsv) AS u)"
            " FROM pmrag_staging s CROSS JOIN LATERAL (SELECT to_tsvector('pmrag_english', s.lex) AS tsv) v"
            " ORDER BY s.doc_id, s.ordinal").format(c=chunks_t))
        conn.execute(sql.SQL(
            "INSERT INTO {t} (lexeme, df) SELECT u.lexeme, count(*) FROM {c}, unnest(tsv) AS u"
            " WHERE doc_id = ANY(%s) GROUP BY u.lexeme"
            " ON CONFLICT (lexeme) DO UPDATE SET df = {t}.df + EXCLUDED.df").format(t=terms_t, c=chunks_t),
            (sorted(docs),))
        conn.execute("DROP TABLE pmrag_staging")

    def drop(self) -> None:
        """Delete this collection and its tables (other collections are untouched)."""
        with self.connection() as conn, conn.transaction():
            row = self._collection(conn)
            if row is not None:
                conn.execute("DELETE FROM pmrag_collections WHERE id = %s", (row[0],))
                for table in self.tables(row[0]):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))


def migrate(source: Any, target: PgStore, *, wait: bool = False) -> dict[str, Any]:
    """Copy the live generation of `source` (a FAISS folder) into `target` without
    re-embedding: the manifest, articles, chunks and vectors go over as they are."""
    t0 = time.perf_counter()
    data = source.load()
    with target.lock(wait=wait):
        generation = target.save(data)
    return {"from": str(source.root), "to": target.root, "documents": len(data.articles),
            "chunks": len(data.chunks), "generation": generation, "seconds": round(time.perf_counter() - t0, 3)}
