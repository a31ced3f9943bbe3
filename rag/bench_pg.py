"""pgvector section of `pmrag bench`: Postgres + pgvector HNSW on the scale section's vectors.

For each size (SciFact's 18,169 chunks and 1M in the full run) it loads the very vectors of
`rag.bench_ann` (`synthetic(n, seed=0)`, queries `synthetic(q, seed=1)`, so the rows sit
beside FAISS's) into a throwaway Postgres started with the PyPI package `pgserver`, in a
table with production's column type (`vector(384)`) and production's index DDL
(`USING hnsw (embedding vector_cosine_ops)`, pgvector's defaults m=16, ef_construction=64).
It measures: binary COPY time, index build time (bulk, after the load, with
`maintenance_work_mem` large enough for an in-memory graph and parallel workers allowed),
heap and index size on disk, and single queries (one at a time, as a user asks) through
SQL `ORDER BY embedding <=> q LIMIT 10` at `hnsw.ef_search` 40 (pgvector's default), 200
(the 200 candidates `rag.pgsearch` asks for) and 400 (what it sets: twice the candidates), scored as recall@10 against the
exact top 10 (FAISS flat inner product on the same normalised vectors). A sequential scan
(`enable_indexscan = off`) of the same SQL is the same-run exact baseline.

Left to others: the schema of a real collection (text, tsvector, BM25) to `rag.pgstore`,
hybrid search to `rag.pgsearch`, the FAISS figures to `rag.bench_ann`, writing the report
to `rag.bench`. Production creates the index on an empty table and inserts rows into it;
the bench builds it in one pass after the load, which is the faster way to get the same index.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import faiss
import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from rag.bench_ann import DIM, LATENT, NOISE, label, recall_at_10, synthetic
from rag.bench_util import Stopwatch, load_average, percentile

log = logging.getLogger(__name__)

# pgvector's default; the candidate count (200); what rag.pgsearch sets (twice the candidates)
EF_SEARCH = (40, 200, 400)
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64  # pgvector's defaults, which production's DDL leaves alone
BUILD_SETTINGS = {"maintenance_work_mem": "4GB", "max_parallel_maintenance_workers": "2"}
SHOWN = ("server_version", "vector_version", "shared_buffers", "maintenance_work_mem",
         "max_parallel_maintenance_workers", "max_parallel_workers_per_gather")


def run(sizes: list[int], n_queries: int, url: str | None = None) -> dict[str, Any]:
    """Flat keys `pg_<size>_<what>` plus set-up keys `pg_*`. `url`: an existing Postgres with
    pgvector to use (tests pass theirs); None starts and deletes a throwaway pgserver."""
    out: dict[str, Any] = {
        "pg_vectors": f"synthetic normalised {DIM}-d, {LATENT}-d latent + {NOISE} noise (as the scale section)",
        "pg_queries": n_queries,
        "pg_hnsw_params": f"m={HNSW_M} ef_construction={HNSW_EF_CONSTRUCTION} (pgvector defaults),"
                          f" ef_search {' and '.join(map(str, EF_SEARCH))}",
    }
    queries = synthetic(n_queries, seed=1)
    with _server(url) as (uri, where):
        out["pg_server"] = where
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(conn)
            for key, value in BUILD_SETTINGS.items():
                conn.execute("SELECT set_config(%s, %s, false)", (key, value))
            notices: list[str] = []  # the build's: parallel workers used, graph spilled to disk

            def keep(diag: psycopg.errors.Diagnostic) -> None:
                if re.search(r"parallel|maintenance_work_mem", diag.message_primary or ""):
                    notices.append(diag.message_primary or "")

            conn.add_notice_handler(keep)
            out["pg_settings"] = ", ".join(f"{k}={_setting(conn, k)}" for k in SHOWN)
            for n in sizes:
                notices.clear()
                out.update(_one_size(conn, n, queries))
                if notices:
                    out[f"pg_{label(n)}_build_notices"] = "; ".join(notices)[:300]
    return out


@contextmanager
def _server(url: str | None) -> Iterator[tuple[str, str]]:
    if url is not None:
        yield url, "given server"
        return
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="pmrag-bench-pg-"), cleanup_mode="delete")
    try:
        yield server.get_uri(), "throwaway pgserver (PostgreSQL 16, unix socket; server defaults except the build settings listed)"
    finally:
        server.cleanup()


def _setting(conn: psycopg.Connection, name: str) -> str:
    if name == "vector_version":
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    else:
        row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    return str(row[0]) if row else "?"


def _one_size(conn: psycopg.Connection, n: int, queries: np.ndarray) -> dict[str, Any]:
    tag = f"pg_{label(n)}"
    log.info("pgvector: %d vectors", n)
    x = synthetic(n, seed=0)
    truth = _exact_top10(x, queries)
    out: dict[str, Any] = {f"{tag}_load_avg": load_average()}
    name = f"pmrag_bench_{uuid.uuid4().hex[:8]}"
    table, index = sql.Identifier(name), sql.Identifier(f"{name}_hnsw")
    conn.execute(sql.SQL("CREATE TABLE {} (id int NOT NULL, embedding vector({}) NOT NULL)")
                 .format(table, sql.Literal(x.shape[1])))
    try:
        with Stopwatch() as sw, conn.cursor().copy(
                sql.SQL("COPY {} (id, embedding) FROM STDIN WITH (FORMAT BINARY)").format(table)) as copy:
            copy.set_types(["int4", "vector"])
            for i in range(n):
                copy.write_row((i, x[i]))
        out[f"{tag}_load_s"] = round(sw.seconds, 2)
        del x
        with Stopwatch() as sw:
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))  # hint bits + planner statistics
        out[f"{tag}_vacuum_s"] = round(sw.seconds, 2)
        # DEBUG1 is where pgvector says how many parallel workers the build used.
        conn.execute("SET client_min_messages = debug1")
        try:
            with Stopwatch() as sw:
                conn.execute(sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding vector_cosine_ops)")
                             .format(index, table))
        finally:
            conn.execute("RESET client_min_messages")
        out[f"{tag}_build_s"] = round(sw.seconds, 2)
        sizes = conn.execute("SELECT pg_table_size(%s::regclass), pg_total_relation_size(%s::regclass)",
                             (name, f"{name}_hnsw")).fetchone()
        out[f"{tag}_table_mb"] = round(sizes[0] / 1048576, 1)
        out[f"{tag}_index_mb"] = round(sizes[1] / 1048576, 1)

        query = sql.SQL("SELECT id FROM {} ORDER BY embedding <=> %s LIMIT 10").format(table)
        for ef in EF_SEARCH:
            conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef),))
            out[f"{tag}_ef{ef}_plan"] = _plan(conn, query, queries[0])
            found, ms = _time_queries(conn, query, queries, warm_up=5)
            out[f"{tag}_ef{ef}_p50_ms"] = round(percentile(ms, 50), 2)
            out[f"{tag}_ef{ef}_p95_ms"] = round(percentile(ms, 95), 2)
            out[f"{tag}_ef{ef}_recall_at_10"] = round(recall_at_10(truth, found), 4)
        conn.execute("SET enable_indexscan = off")
        try:
            out[f"{tag}_exact_plan"] = _plan(conn, query, queries[0])
            # Unprepared: psycopg prepares a statement after 5 runs, and a prepared plan is not
            # re-planned when enable_indexscan changes, so it would go on using the index.
            found, ms = _time_queries(conn, query, queries, warm_up=1, prepare=False)
        finally:
            conn.execute("RESET enable_indexscan")
        out[f"{tag}_exact_p50_ms"] = round(percentile(ms, 50), 2)
        out[f"{tag}_exact_p95_ms"] = round(percentile(ms, 95), 2)
        out[f"{tag}_exact_recall_at_10"] = round(recall_at_10(truth, found), 4)
        if out[f"{tag}_exact_recall_at_10"] < 0.99:  # the seq scan must find what numpy/FAISS found
            log.warning("pgvector %s: the exact scan's recall is %s, not 1.0", label(n),
                        out[f"{tag}_exact_recall_at_10"])
    finally:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    log.info("pgvector %s: build %.0f s; %s; exact p50 %.1f ms", label(n), out[f"{tag}_build_s"],
             ", ".join(f"ef {ef}: p50 {out[f'{tag}_ef{ef}_p50_ms']} ms recall {out[f'{tag}_ef{ef}_recall_at_10']}"
                       for ef in EF_SEARCH), out[f"{tag}_exact_p50_ms"])
    return out


def _exact_top10(x: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The exact top 10 rows by cosine (the vectors are normalised, so inner product)."""
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    return flat.search(queries, 10)[1]


def _plan(conn: psycopg.Connection, query: sql.Composable, q: np.ndarray) -> str:
    """The plan's scan node, so the report shows the index (or the seq scan) was really used."""
    for (line,) in conn.execute(sql.SQL("EXPLAIN ") + query, (q,)).fetchall():
        if "Scan" in line:
            node = line.strip().removeprefix("->").strip()
            kind = node.split(" on ")[0].split(" using ")[0]
            return f"{kind} (hnsw)" if kind == "Index Scan" and "_hnsw " in node else kind
    return "?"


def _time_queries(conn: psycopg.Connection, query: sql.Composable, queries: np.ndarray,
                  warm_up: int, prepare: bool | None = None) -> tuple[np.ndarray, list[float]]:
    """Top-10 ids of each query, one statement at a time, and each round trip's milliseconds
    (the first `warm_up` queries run once untimed so the pages are in memory)."""
    for q in queries[:warm_up]:
        conn.execute(query, (q,), prepare=prepare).fetchall()
    rows = np.full((len(queries), 10), -1, dtype=np.int64)
    ms = []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        ids = [r[0] for r in conn.execute(query, (q,), prepare=prepare).fetchall()]
        ms.append((time.perf_counter() - t0) * 1000)
        rows[i, : len(ids)] = ids
    return rows, ms

