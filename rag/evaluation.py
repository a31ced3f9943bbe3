"""Retrieval evaluation: standard IR metrics and `pmrag eval retrieval` over a BEIR folder.

`evaluate_retrieval` builds (or reuses) an index of the benchmark corpus in
`<cache_dir>/eval/<key>/`, keyed by the corpus content hash and the settings that shape the
vectors, runs every judged query of the split through the same `HybridRetriever` the
assistant uses, aggregates chunk hits to documents, and reports nDCG@10, Recall@10,
Recall@100, MRR@10 and per-query latency. Chunking and embedding go through
`rag.indexing` (so the embedding cache is shared), reading the folder through `rag.beir`;
printing is left to the CLI.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.beir import BeirDataset, load_beir
from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import IndexCorruptError, IndexMismatchError
from rag.indexing import StageProgress, _chunks_and_vectors, _manifest
from rag.retrieval import HybridRetriever, RetrievalConfig
from rag.store import FaissStore, IndexData, check_compatible

log = logging.getLogger(__name__)


# --- metrics --------------------------------------------------------------------------
# Definitions follow pytrec_eval / BEIR: graded gains with a linear numerator (rel, not
# 2^rel - 1), ideal DCG over all judged documents of the query, recall over all relevant ones.

def ndcg_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if rels.get(d, 0) > 0)
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    relevant = {d for d, g in rels.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class RetrievalReport:
    """Mean metrics over the judged queries of one split; `to_dict` is the `--json` output."""

    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    latency_ms_p50: float
    latency_ms_p95: float
    queries: int
    dataset: str = ""
    split: str = ""
    k: int = 10
    index_dir: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    per_query: dict[str, float] = field(default_factory=dict, repr=False)  # nDCG@k by query id

    def to_dict(self) -> dict[str, Any]:
        return {
            f"ndcg@{self.k}": round(self.ndcg_10, 4), f"recall@{self.k}": round(self.recall_10, 4),
            "recall@100": round(self.recall_100, 4), f"mrr@{self.k}": round(self.mrr_10, 4),
            "latency_ms_p50": round(self.latency_ms_p50, 1), "latency_ms_p95": round(self.latency_ms_p95, 1),
            "queries": self.queries, "dataset": self.dataset, "split": self.split,
            "index_dir": self.index_dir, "config": self.config,
        }


def score_run(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10
              ) -> tuple[float, float, float, float, dict[str, float]]:
    """Mean (nDCG@k, Recall@k, Recall@100, MRR@k) of ranked doc ids against judgements; a
    judged query missing from `run` counts as zero, as in BEIR."""
    ndcg, r_k, r_100, mrr = [], [], [], []
    per: dict[str, float] = {}
    for q, rels in qrels.items():
        ranked = list(run.get(q, []))
        per[q] = ndcg_at(ranked, rels, k)
        ndcg.append(per[q])
        r_k.append(recall_at(ranked, rels, k))
        r_100.append(recall_at(ranked, rels, 100))
        mrr.append(mrr_at(ranked, rels, k))
    n = max(len(ndcg), 1)
    return sum(ndcg) / n, sum(r_k) / n, sum(r_100) / n, sum(mrr) / n, per


# --- the evaluation index ---------------------------------------------------------------

def eval_index_dir(settings: Settings, dataset: BeirDataset, embedder: Embedder) -> Path:
    """Cache folder for this corpus + vector-shaping settings. Fusion settings are not in
    the key: BM25 and fusion are computed at load time, so one index serves every config."""
    sig = json.dumps(dict(settings.chunking_signature(), dim=embedder.dim, corpus=dataset.corpus_hash),
                     sort_keys=True)
    return settings.cache_dir / "eval" / hashlib.sha256(sig.encode()).hexdigest()[:16]


def load_or_build_index(settings: Settings, dataset: BeirDataset, embedder: Embedder,
                        progress: StageProgress | None = None) -> IndexData:
    store = FaissStore(eval_index_dir(settings, dataset, embedder))
    signature = dict(settings.chunking_signature(), dim=embedder.dim)
    with store.lock(wait=True):  # two evaluations of one corpus build it once
        if store.exists():
            try:
                check_compatible(store.read_manifest(), signature, store.root)
                data = store.load()
                if set(data.articles) == set(dataset.articles):
                    log.info("reusing evaluation index %s", store.root)
                    return data
            except (IndexMismatchError, IndexCorruptError) as exc:
                log.warning("rebuilding evaluation index: %s", exc)
        t0 = time.perf_counter()
        chunks, vectors, _ = _chunks_and_vectors(dataset.articles, set(), None, embedder, settings, progress)
        store.save(IndexData(_manifest(signature, dataset.articles, chunks), dataset.articles, chunks, vectors))
        log.info("built evaluation index: %d docs, %d chunks in %.0fs", len(dataset.articles), len(chunks),
                 time.perf_counter() - t0)
        return store.load()


# --- running ------------------------------------------------------------------------------

def evaluate_retrieval(settings: Settings, embedder: Embedder, dataset_dir: Path, *, split: str = "test",
                       k: int = 10, config: RetrievalConfig | None = None,
                       progress: StageProgress | None = None,
                       data: IndexData | None = None, limit: int | None = None) -> RetrievalReport:
    """Run every judged query of `split` and score the document rankings (see module doc)."""
    from rag.assistant import retrieval_config

    dataset = load_beir(dataset_dir, split)
    data = data or load_or_build_index(settings, dataset, embedder, progress)
    config = config or retrieval_config(settings)
    retriever = HybridRetriever(data, embedder, config)
    if settings.store_url:  # the same index, copied once into Postgres and searched there
        from rag.pgsearch import eval_retriever

        retriever = eval_retriever(settings, eval_index_dir(settings, dataset, embedder).name, data, embedder,
                                   config)
    report = run_queries(retriever, dataset, k=k, progress=progress, limit=limit)
    report.index_dir = str(eval_index_dir(settings, dataset, embedder))
    return report


def run_queries(retriever: HybridRetriever, dataset: BeirDataset, *, k: int = 10,
                progress: Callable[[str, int, int], None] | None = None,
                limit: int | None = None) -> RetrievalReport:
    depth = max(100, k)  # Recall@100 needs 100 documents per query
    run: dict[str, list[str]] = {}
    latencies: list[float] = []
    qids = sorted(dataset.queries)[:limit] if limit else sorted(dataset.queries)
    for i, q in enumerate(qids):
        t0 = time.perf_counter()
        docs = retriever.search_documents(dataset.queries[q], depth)
        latencies.append((time.perf_counter() - t0) * 1000)
        run[q] = [d.doc_id for d in docs]
        if progress:
            progress("query", i + 1, len(qids))
    ndcg, r_k, r_100, mrr, per = score_run(run, {q: dataset.qrels[q] for q in qids}, k)
    lat = np.asarray(latencies or [0.0])
    return RetrievalReport(ndcg, r_k, r_100, mrr, float(np.percentile(lat, 50)), float(np.percentile(lat, 95)),
                           len(qids), str(dataset.root), dataset.split, k, "",
                           retriever.config.to_dict(), per)
