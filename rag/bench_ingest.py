"""Ingest and incremental sections of `pmrag bench`, on SciFact abstracts written as files.

Ingest: chunks per second of the whole `rag.indexing.update_index` pipeline (scan, hash,
load, chunk, embed into a fresh empty embedding cache, save) against raw
`SentenceTransformer.encode` of the very same chunk texts, in the same process and run.
The raw pass runs once before and once after the pipeline and the two are averaged, so a
burst of load from other jobs hurts both sides alike.

Incremental: a SciFact-size index built from a *copy* of the user's embedding cache (so
its vectors are not recomputed; the report says how many were), then a no-op update, one
short article added, one ten-times-longer article added, and a full rebuild; the added
articles carry a per-run title, so they are never in the cache. Adding must cost what the
article costs, not what the corpus costs. The BEIR data is read from where it lives and
written only into a temporary folder. Reading BEIR is left to `rag.beir`; the report to
`rag.bench`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from rag.beir import BeirDataset
from rag.bench_util import Stopwatch, load_average
from rag.chunking import chunk_text, embedding_text
from rag.config import Settings
from rag.documents import Article, load_article
from rag.embedding import EmbeddingCache, SentenceTransformerEmbedder, text_key
from rag.indexing import update_index
from rag.store import FaissStore

log = logging.getLogger(__name__)


def write_corpus(articles: list[Article], folder: Path) -> None:
    """Each article as Markdown with its title in front matter, so `load_article` gives
    back exactly the BEIR title and text (and the cached vectors match)."""
    folder.mkdir(parents=True, exist_ok=True)
    for a in articles:
        name = "".join(ch if ch.isalnum() else "-" for ch in a.doc_id) + ".md"
        (folder / name).write_text(f"---\ntitle: {json.dumps(a.title)}\n---\n{a.text}\n", encoding="utf-8")


def chunk_texts(folder: Path, settings: Settings, embedder: SentenceTransformerEmbedder) -> list[str]:
    """The texts the pipeline will embed for `folder`, made by the same functions."""
    texts = []
    for path in sorted(folder.glob("*.md")):
        art = load_article(path, path.name)
        for chunk in chunk_text(path.name, art.text, embedder.count_tokens,
                                chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap):
            texts.append(embedding_text(art.title, chunk))
    return texts


def run_ingest(dataset: BeirDataset, n_docs: int, work: Path, base: Settings) -> dict[str, Any]:
    """Pipeline chunks/s against raw encode chunks/s on `n_docs` SciFact abstracts."""
    folder = work / "ingest"
    articles = [dataset.articles[d] for d in sorted(dataset.articles)[:n_docs]]
    write_corpus(articles, folder / "corpus")
    settings = base.model_copy(update={"corpus_dir": folder / "corpus", "index_dir": folder / "index",
                                       "cache_dir": folder / "cache"})
    embedder = SentenceTransformerEmbedder(settings.embed_model, batch_size=settings.embed_batch_size,
                                           cache=EmbeddingCache(folder / "cache" / "embeddings.sqlite"),
                                           models_dir=settings.models_dir)
    texts = chunk_texts(folder / "corpus", settings, embedder)
    model = embedder.model
    # The baseline does the same work as the pipeline, the model's document prompt included.
    prompt = embedder.document_prompt
    model.encode(texts[:64], batch_size=settings.embed_batch_size, prompt_name=prompt)  # warm-up: first calls are slow

    def raw() -> float:
        with Stopwatch() as sw:
            model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False, prompt_name=prompt)
        return sw.seconds

    load0 = load_average()
    raw_before = raw()
    report = update_index(settings, embedder)
    raw_after = raw()
    raw_s = (raw_before + raw_after) / 2
    if report.chunks != len(texts) or report.embedded_chunks != len(texts):
        log.warning("ingest: pipeline made %d chunks (%d embedded), expected %d", report.chunks,
                    report.embedded_chunks, len(texts))
    tokens = sum(embedder.count_tokens(t) for t in texts)
    pipeline_rate = report.chunks / report.seconds
    raw_rate = len(texts) / raw_s
    return {
        "ingest_docs": len(articles),
        "ingest_embed_model": embedder.name,
        "ingest_chunks": report.chunks,
        "ingest_mean_tokens_per_chunk": round(tokens / max(len(texts), 1), 1),
        "ingest_pipeline_s": round(report.seconds, 2),
        "ingest_pipeline_chunks_per_s": round(pipeline_rate, 2),
        "ingest_raw_encode_s": round(raw_s, 2),
        "ingest_raw_encode_s_before_after": f"{raw_before:.1f} / {raw_after:.1f}",
        # How far apart the two raw passes were: the ratio is no more precise than this.
        "ingest_raw_encode_spread": round(abs(raw_before - raw_after) / raw_s, 3),
        "ingest_raw_encode_chunks_per_s": round(raw_rate, 2),
        "ingest_ratio_vs_raw_encode": round(pipeline_rate / raw_rate, 3),
        "ingest_batch_size": settings.embed_batch_size,
        "ingest_load_avg": f"{load0} -> {load_average()}",
    }


def copy_cache(src: Path, dst: Path) -> int:
    """Copy the SQLite embedding cache with SQLite's online backup (safe while another
    process writes it); returns the vectors it holds (0 when there is none)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not src.is_file():
        EmbeddingCache(dst).close()
        return 0
    with sqlite3.connect(str(src), timeout=60) as source, sqlite3.connect(str(dst)) as target:
        source.backup(target)
        return int(target.execute("SELECT count(*) FROM vectors").fetchone()[0])


def cache_coverage(articles: list[Article], settings: Settings, embedder: SentenceTransformerEmbedder,
                   cache: EmbeddingCache) -> float:
    """Share of these articles' chunk vectors already in `cache`."""
    keys = []
    for a in articles:
        for chunk in chunk_text(a.doc_id, a.text, embedder.count_tokens, chunk_tokens=settings.chunk_tokens,
                                overlap_tokens=settings.chunk_overlap):
            keys.append(text_key(embedding_text(a.title, chunk)))
    return len(cache.get_many(embedder.name, keys)) / max(len(keys), 1)


def run_incremental(dataset: BeirDataset, n_docs: int, work: Path, base: Settings,
                    pipeline_rate: float) -> tuple[dict[str, Any], Settings]:
    """Add-one-article against full rebuild on a SciFact-size index; returns the figures
    and the settings of the index it built (the query section searches that index)."""
    folder = work / "incremental"
    cached = copy_cache(base.cache_dir / "embeddings.sqlite", folder / "cache" / "embeddings.sqlite")
    settings = base.model_copy(update={"corpus_dir": folder / "corpus", "index_dir": folder / "index",
                                       "cache_dir": folder / "cache"})
    cache = EmbeddingCache(folder / "cache" / "embeddings.sqlite")
    embedder = SentenceTransformerEmbedder(settings.embed_model, batch_size=settings.embed_batch_size, cache=cache,
                                           models_dir=settings.models_dir)
    ids = sorted(dataset.articles)
    held_out = [dataset.articles[d] for d in ids[-11:]]  # never in the corpus below
    corpus_ids = ids[: min(n_docs, len(ids) - 11)]
    coverage = cache_coverage([dataset.articles[d] for d in corpus_ids[:40]], settings, embedder, cache)
    if coverage < 0.9 and len(corpus_ids) > 1000:
        # Without cached vectors a SciFact-size build embeds ~18k chunks (~15 min on 2
        # cores): fall back to a subset rather than blow the time budget.
        log.warning("embedding cache holds %.0f%% of SciFact's vectors; using 1000 documents", coverage * 100)
        corpus_ids = corpus_ids[:1000]
    write_corpus([dataset.articles[d] for d in corpus_ids], folder / "corpus")
    store = FaissStore(settings.index_dir)

    out: dict[str, Any] = {"incr_cache_vectors_copied": cached, "incr_load_avg_start": load_average()}
    before = _cached_rows(cache)
    build = update_index(settings, embedder, store)
    # The report counts chunks handed to the embedder; cache hits among them cost nothing,
    # so what was really embedded is what the cache gained.
    out.update(incr_corpus_docs=build.documents, incr_corpus_chunks=build.chunks,
               incr_build_s=round(build.seconds, 2), incr_build_embedded_chunks=_cached_rows(cache) - before)
    noop = update_index(settings, embedder, store)
    out["incr_noop_update_s"] = round(noop.seconds, 2)

    nonce = time.strftime("%Y%m%dT%H%M%S")
    small = held_out[0]
    large_text = "\n\n".join(a.text for a in held_out[1:])  # ten abstracts: ~10x the chunks
    for tag, title, text in (("small", small.title, small.text), ("large", "Ten abstracts", large_text)):
        path = folder / "corpus" / f"bench-added-{tag}.md"
        path.write_text(f"---\ntitle: {json.dumps(f'{title} (bench {nonce})')}\n---\n{text}\n", encoding="utf-8")
        before = _cached_rows(cache)
        added = update_index(settings, embedder, store)
        out[f"incr_add_{tag}_s"] = round(added.seconds, 2)
        out[f"incr_add_{tag}_embedded_chunks"] = _cached_rows(cache) - before

    full = update_index(settings, embedder, store, full=True)
    out["incr_full_rebuild_cached_s"] = round(full.seconds, 2)
    out["incr_full_rebuild_chunks"] = full.chunks
    # An uncached rebuild embeds every chunk at the pipeline rate measured in the ingest
    # section; running it for real would take ~15 min of the 30-minute budget.
    uncached = full.chunks / pipeline_rate if pipeline_rate else 0.0
    out["incr_full_rebuild_uncached_est_s"] = round(uncached, 1)
    out["incr_add_one_vs_full_rebuild"] = round(out["incr_add_small_s"] / uncached, 4) if uncached else None
    out["incr_load_avg_end"] = load_average()
    cache.close()
    return out, settings


def _cached_rows(cache: EmbeddingCache) -> int:
    return int(cache._conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
