"""Scale section of `pmrag bench`: exact (flat) against HNSW search on synthetic vectors.

For each size (10k, 100k, 1M in the full run) it builds both indexes with the production
`rag.store.build_faiss`, then times single queries (one at a time, as a user asks) and
scores HNSW's recall@10 against the exact answer. The numpy matrix product that
`HybridRetriever` uses for its dense side today is timed too, since that is what a query
costs in the app at that size. The vectors are synthetic on purpose (the figures must not
depend on a corpus) but shaped like sentence embeddings: normalised 384-d points on a
32-dimensional latent subspace plus a little isotropic noise, which gives a top-1 cosine
of ~0.7 like MiniLM on real text. Uniform random vectors would be a poor stand-in: in 384
dimensions they have no near neighbours at all, and no ANN index is built for that.
Choosing the index type is left to `rag.store.AnnConfig`; writing the report to
`rag.bench`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import faiss
import numpy as np

from rag.bench_util import Stopwatch, load_average, percentile
from rag.store import AnnConfig, build_faiss

log = logging.getLogger(__name__)

DIM = 384
LATENT = 32
NOISE = 0.05


def synthetic(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    """`n` normalised float32 vectors (see the module docstring for their shape)."""
    basis = np.random.default_rng(12345).standard_normal((LATENT, dim)).astype(np.float32)
    basis /= np.sqrt(LATENT)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, 100_000):  # in blocks: the float64 temporaries of 1M rows are 3 GB
        m = min(100_000, n - lo)
        x = rng.standard_normal((m, LATENT), dtype=np.float32) @ basis
        x += NOISE * rng.standard_normal((m, dim), dtype=np.float32)
        out[lo : lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def label(n: int) -> str:
    """Size in keys and tables: 500, 18k, 1m."""
    if n < 1000:
        return str(n)
    return f"{n // 1_000_000}m" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def run(sizes: list[int], n_queries: int, ann: AnnConfig) -> dict[str, Any]:
    """Flat keys `scale_<size>_<what>` plus the headline `ann_1m_*` ones when 1M is run."""
    out: dict[str, Any] = {
        "scale_vectors": f"synthetic normalised {DIM}-d, {LATENT}-d latent + {NOISE} noise",
        "scale_queries": n_queries,
        "scale_hnsw_params": f"M={ann.hnsw_m} efConstruction={ann.ef_construction} efSearch={ann.ef_search}",
        "scale_threads": faiss.omp_get_max_threads(),
    }
    queries = synthetic(n_queries, seed=1)
    for n in sizes:
        tag = f"scale_{label(n)}"
        log.info("scale: %d vectors", n)
        x = synthetic(n, seed=0)
        out[f"{tag}_load_avg"] = load_average()

        with Stopwatch() as sw:
            flat = build_faiss(x, AnnConfig(kind="flat"))
        out[f"{tag}_flat_build_s"] = round(sw.seconds, 3)
        out[f"{tag}_flat_memory_mb"] = _index_mb(flat)
        truth, flat_ms = _time_queries(flat, queries)
        out[f"{tag}_flat_p50_ms"] = round(percentile(flat_ms, 50), 2)
        out[f"{tag}_flat_p95_ms"] = round(percentile(flat_ms, 95), 2)

        numpy_ms = []
        for q in queries:
            t0 = time.perf_counter()
            scores = x @ q
            np.argpartition(-scores, 10)[:10]
            numpy_ms.append((time.perf_counter() - t0) * 1000)
        out[f"{tag}_numpy_p50_ms"] = round(percentile(numpy_ms, 50), 2)
        del flat

        with Stopwatch() as sw:
            hnsw = build_faiss(x, AnnConfig("hnsw", ann.threshold, ann.hnsw_m, ann.ef_construction, ann.ef_search))
        out[f"{tag}_hnsw_build_s"] = round(sw.seconds, 2)
        out[f"{tag}_hnsw_memory_mb"] = _index_mb(hnsw)
        found, hnsw_ms = _time_queries(hnsw, queries)
        out[f"{tag}_hnsw_p50_ms"] = round(percentile(hnsw_ms, 50), 3)
        out[f"{tag}_hnsw_p95_ms"] = round(percentile(hnsw_ms, 95), 3)
        out[f"{tag}_hnsw_recall_at_10"] = round(recall_at_10(truth, found), 4)
        del hnsw, x
        log.info("scale %s: flat p50 %.1f ms, hnsw p50 %.2f ms recall %.3f", label(n),
                 out[f"{tag}_flat_p50_ms"], out[f"{tag}_hnsw_p50_ms"], out[f"{tag}_hnsw_recall_at_10"])
    if 1_000_000 in sizes:
        out["ann_1m_p50_ms"] = out["scale_1m_hnsw_p50_ms"]
        out["ann_1m_recall_at_10"] = out["scale_1m_hnsw_recall_at_10"]
        out["ann_1m_build_s"] = out["scale_1m_hnsw_build_s"]
        out["flat_1m_p50_ms"] = out["scale_1m_flat_p50_ms"]
    return out


def _time_queries(index: Any, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Top-10 rows of each query, searched one at a time, and each search's milliseconds."""
    rows = np.empty((len(queries), 10), dtype=np.int64)
    ms = []
    # One thread per query, as a server answering several users would run it: an OpenMP
    # parallel region per single query cost flat search 40 ms at 10k vectors here when other
    # jobs held the cores (numpy, one thread: 0.3 ms).
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        for i in range(len(queries)):
            t0 = time.perf_counter()
            _, found = index.search(queries[i : i + 1], 10)
            ms.append((time.perf_counter() - t0) * 1000)
            rows[i] = found[0]
    finally:
        faiss.omp_set_num_threads(threads)
    return rows, ms


def recall_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    """Mean share of each query's true top 10 that `found` contains."""
    return float(np.mean([len(set(t) & set(f)) / len(t) for t, f in zip(truth, found, strict=True)]))


def _index_mb(index: Any) -> float:
    """Bytes FAISS writes for the index: the vectors plus, for HNSW, the graph."""
    return round(faiss.serialize_index(index).nbytes / 1048576, 1)
