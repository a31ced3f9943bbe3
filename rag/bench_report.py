"""Render the flat `pmrag bench` results as docs/BENCHMARKS.md: a headline table (each
figure beside its same-run baseline and target), then one table per section with the set-up
needed to read it. Only formatting lives here; the figures come from `rag.bench`."""

from __future__ import annotations

from typing import Any


def render(r: dict[str, Any]) -> str:
    def g(key: str, unit: str = "") -> str:
        value = r.get(key)
        if value is None or value == "":
            return "—"
        return f"{value}{unit}"

    lines = [
        "# Benchmarks",
        "",
        f"Written by `{r.get('command', 'pmrag bench')}` ({r.get('mode')} mode) on {r.get('started_at')};"
        f" the whole run took {_minutes(r.get('duration_s'))}. Raw data: `benchmarks.json` (flat keys).",
        "",
        *([f"**Sections re-run later** (their figures replace the first run's): {r['rerun']}.", ""]
          if r.get("rerun") else []),
        f"**Machine:** {g('machine_cores')} cores ({g('machine_cores_usable')} usable), {g('machine_memory_gb')} GB"
        f" RAM, {g('machine_cpu')}, {g('machine_os')}, Python {g('python')}.",
        f"**Load:** 1-minute load average {g('load_avg_start')} at the start, {g('load_avg_end')} at the end"
        f" (per-section values below); the bench ran at nice {g('nice')}. This machine is shared: other jobs"
        " (an LLM evaluation among them) ran at the same time, so absolute times are noisy and"
        " pessimistic. Ratios compare against baselines measured in the same run, under the same load.",
        "",
        "To reproduce: `make bench` (full, ~30 min budget on 2 cores) or `.venv/bin/pmrag bench --quick`"
        " (small sizes, a few minutes; writes to the cache folder unless `--out` is given).",
        "",
        "## Headline",
        "",
        "| figure | this project | baseline, same run | ratio | target |",
        "|---|---|---|---|---|",
        f"| ingest, whole pipeline (chunks/s) | {g('ingest_pipeline_chunks_per_s')} |"
        f" raw `SentenceTransformer.encode`: {g('ingest_raw_encode_chunks_per_s')} |"
        f" **{g('ingest_ratio_vs_raw_encode')}** | ≥ 0.9 |",
        f"| add one article to a SciFact-size index | {g('incr_add_small_s', ' s')} |"
        f" full rebuild: {g('incr_full_rebuild_uncached_est_s', ' s')} (est., uncached),"
        f" {g('incr_full_rebuild_cached_s', ' s')} (cached vectors) | {g('incr_add_one_vs_full_rebuild')} |"
        " follows the article's size |",
        f"| retrieval p50 / p95, hybrid + second stage | {g('query_hybrid_2nd_stage_p50_ms')} /"
        f" {g('query_hybrid_2nd_stage_p95_ms', ' ms')} | dense only: {g('query_dense_p50_ms')} /"
        f" {g('query_dense_p95_ms', ' ms')} | | |",
        f"| `ask` time to first token | {g('ask_first_token_s', ' s')} | raw llama-cpp:"
        f" {g('raw_llama_first_token_s', ' s')} | {g('ask_first_token_ratio_vs_raw')} | |",
        f"| `ask` generation speed (tokens/s) | {g('ask_tokens_per_s')} | raw llama-cpp:"
        f" {g('raw_llama_tokens_per_s')} | {g('ask_tokens_per_s_ratio_vs_raw')} | |",
        f"| 1M vectors, HNSW p50 | {g('ann_1m_p50_ms', ' ms')} | flat (exact): {g('flat_1m_p50_ms', ' ms')} |"
        f" | ≤ 50 ms |",
        f"| 1M vectors, HNSW recall@10 vs flat | {g('ann_1m_recall_at_10')} | 1.0 | | ≥ 0.95 |",
        f"| 1M vectors, pgvector HNSW p50, ef_search 40 / 200 / 400 (default) | {g('pg_1m_ef40_p50_ms')} /"
        f" {g('pg_1m_ef200_p50_ms')} / {g('pg_1m_ef400_p50_ms', ' ms')} | seq scan (exact): {g('pg_1m_exact_p50_ms', ' ms')} | | ≤ 50 ms |",
        f"| 1M vectors, pgvector recall@10 vs exact, ef_search 40 / 200 / 400 (default) |"
        f" {g('pg_1m_ef40_recall_at_10')} / {g('pg_1m_ef200_recall_at_10')} / {g('pg_1m_ef400_recall_at_10')} | 1.0 | | ≥ 0.95 |",
        f"| peak RSS, `pmrag serve` with the LLM loaded | {g('memory_serve_peak_rss_mb', ' MB')} | | | |",
        f"| peak RSS, `pmrag index` on SciFact | {g('memory_index_peak_rss_mb', ' MB')} | | | |",
        "",
    ]
    lines += _ingest(r, g) + _incremental(r, g) + _query(r, g) + _ask(r, g) + _memory(r, g) + _scale(r) + _pgvector(r, g)
    errors = {k: v for k, v in r.items() if k.endswith("_error")}
    if errors:
        lines += ["## Sections that failed", ""] + [f"- `{k}`: {v}" for k, v in errors.items()] + [""]
    return "\n".join(lines)


def _ingest(r: dict[str, Any], g: Any) -> list[str]:
    return [
        "## Ingest",
        "",
        f"{g('ingest_docs')} SciFact abstracts written as Markdown files, {g('ingest_chunks')} chunks of"
        f" {g('ingest_mean_tokens_per_chunk')} tokens on average, embedded with {g('ingest_embed_model')}. Pipeline = `rag.indexing.update_index`"
        " (scan, hash, load, chunk, embed into a fresh empty embedding cache, save). Raw = one"
        " `SentenceTransformer.encode` call on exactly the same chunk texts, same model object, batch size"
        f" {g('ingest_batch_size')}, run once before and once after the pipeline"
        f" ({g('ingest_raw_encode_s_before_after')} s) and averaged. Load average {g('ingest_load_avg')}."
        " When the two raw passes differ a lot, other jobs' load moved during the section and the"
        " ratio is no more precise than that difference.",
        "",
        "| | seconds | chunks/s |",
        "|---|---|---|",
        f"| pipeline | {g('ingest_pipeline_s')} | {g('ingest_pipeline_chunks_per_s')} |",
        f"| raw encode | {g('ingest_raw_encode_s')} | {g('ingest_raw_encode_chunks_per_s')} |",
        "",
    ]


def _incremental(r: dict[str, Any], g: Any) -> list[str]:
    return [
        "## Incremental updates",
        "",
        f"A SciFact-derived corpus of {g('incr_corpus_docs')} articles ({g('incr_corpus_chunks')} chunks)."
        " **What was cached:** the index was first built with a copy of the user's embedding cache"
        f" ({g('incr_cache_vectors_copied')} vectors, filled earlier by `pmrag eval retrieval`);"
        f" {g('incr_build_embedded_chunks')} chunks had to be embedded. The added articles carry a per-run"
        " title, so their chunks are never cached and are really embedded. The uncached full rebuild is"
        " estimated as chunks ÷ the pipeline rate of the ingest section (running it would take ~15 min).",
        "",
        "| step | seconds | chunks embedded |",
        "|---|---|---|",
        f"| first build (vectors from the cache) | {g('incr_build_s')} | {g('incr_build_embedded_chunks')} |",
        f"| update with nothing changed (scan + hash) | {g('incr_noop_update_s')} | 0 |",
        f"| add one abstract | {g('incr_add_small_s')} | {g('incr_add_small_embedded_chunks')} |",
        f"| add one article of ten abstracts | {g('incr_add_large_s')} | {g('incr_add_large_embedded_chunks')} |",
        f"| full rebuild, vectors from the cache (`--full`) | {g('incr_full_rebuild_cached_s')} | 0 |",
        f"| full rebuild, nothing cached (estimate) | {g('incr_full_rebuild_uncached_est_s')} |"
        f" {g('incr_full_rebuild_chunks')} |",
        "",
        "Adding an article embeds only its own chunks; what remains per update is a fixed cost that"
        " grows slowly with the corpus (hashing every file, loading and re-saving the index files).",
        "",
    ]


def _query(r: dict[str, Any], g: Any) -> list[str]:
    return [
        "## Retrieval latency (SciFact scale)",
        "",
        f"{g('query_questions')} SciFact training claims against the index of the incremental section"
        f" ({g('query_index_docs')} documents, {g('query_index_chunks')} chunks, {g('query_embed_model')}),"
        " top 4 chunks as `ask`"
        " uses them; each time includes embedding the question. Dense only = cosine against every chunk"
        " vector; hybrid = dense + BM25, blended, no feedback; second stage = the default (RM3 + Rocchio"
        f" feedback, then fused again). BM25 index build: {g('query_bm25_build_s')} s."
        f" Load average {g('query_load_avg')}.",
        "",
        "| set-up | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| dense only | {g('query_dense_p50_ms')} | {g('query_dense_p95_ms')} |",
        f"| hybrid | {g('query_hybrid_p50_ms')} | {g('query_hybrid_p95_ms')} |",
        f"| hybrid + second stage (default) | {g('query_hybrid_2nd_stage_p50_ms')} |"
        f" {g('query_hybrid_2nd_stage_p95_ms')} |",
        "",
        "One query embedding (the bulk of the dense-only time) in a fresh process, median of 20:"
        f" **{g('query_embed_p50_ms_omp_default', ' ms')}** with OpenMP's default wait policy, where idle"
        f" worker threads spin, against **{g('query_embed_p50_ms_omp_passive', ' ms')}** with"
        " `OMP_WAIT_POLICY=PASSIVE` (load average"
        f" {g('omp_load_avg')}). When other jobs keep both cores busy, spinning threads starve each other;"
        " `pmrag` therefore sets `OMP_WAIT_POLICY=PASSIVE` before torch loads (an explicit value in the"
        " environment wins), and every figure above was measured with it.",
        "",
    ]


def _ask(r: dict[str, Any], g: Any) -> list[str]:
    return [
        "## `ask` end to end against raw llama-cpp-python",
        "",
        f"Bundled model {g('ask_model')} (loaded in {g('ask_model_load_s')} s), {g('ask_threads')} threads,"
        f" flash attention {g('ask_flash_attn')}, llama.cpp built with `{g('ask_llama_cpp_cpu')}`,"
        f" greedy, at most {g('ask_max_tokens')} new tokens; {g('ask_questions')} answerable dev question(s)"
        f" over a copy of the PM corpus, prompts of ~{g('ask_prompt_tokens_approx')} tokens (median)."
        " `ask` = `Assistant.stream` from the call (follow-up check, retrieval, passage selection, prompt"
        " evaluation) to the first streamed text; raw = `Llama.create_chat_completion` on the very messages"
        " the assistant sent, same model object, context reset before each run so neither reuses the"
        f" other's prompt. {g('ask_llm_calls')} LLM calls in all: when the model said NOT COVERED and was asked"
        " again, raw runs both prompts too and its first token is the second answer's, as on the page."
        " Tokens/s counts the answer's tokens after the first."
        f" Load average {g('ask_load_avg_start')} → {g('ask_load_avg_end')}.",
        "",
        "| | first token, s (median) | tokens/s (median) |",
        "|---|---|---|",
        f"| `ask` | {g('ask_first_token_s')} | {g('ask_tokens_per_s')} |",
        f"| raw llama-cpp | {g('raw_llama_first_token_s')} | {g('raw_llama_tokens_per_s')} |",
        "",
    ]


def _memory(r: dict[str, Any], g: Any) -> list[str]:
    return [
        "## Memory",
        "",
        "Peak resident memory of the real commands, each in its own child process. `pmrag index` rebuilt"
        f" the SciFact-derived corpus ({g('memory_index_docs')} files) into an empty index folder with the"
        " bench's copy of the embedding cache, so vectors came from the cache: the figure is the embedding"
        " model, the articles, chunks and vectors, and the save. `pmrag serve` ran on the PM corpus; one"
        " question went through the page's `/chat` endpoint so the bundled LLM was loaded (its GGUF file is"
        " memory-mapped, so touched pages count in RSS).",
        "",
        "| command | peak RSS | notes |",
        "|---|---|---|",
        f"| `pmrag index` (SciFact) | {g('memory_index_peak_rss_mb', ' MB')} | {g('memory_index_s')} s |",
        f"| `pmrag serve`, after one answer | {g('memory_serve_peak_rss_mb', ' MB')} | idle before the"
        f" question: {g('memory_serve_idle_rss_mb', ' MB')}, started in {g('memory_serve_startup_s', ' s')} |",
        "",
    ]


def _scale(r: dict[str, Any]) -> list[str]:
    sizes = sorted({k.split("_")[1] for k in r if k.startswith("scale_") and k.endswith("_flat_p50_ms")},
                   key=lambda s: float(s[:-1]) * (1000 if s.endswith("m") else 1))
    if not sizes:
        return []
    lines = [
        "## Scale: exact (flat) against HNSW",
        "",
        f"Vectors: {r.get('scale_vectors')} (shaped like sentence embeddings; see `rag/bench_ann.py`)."
        f" {r.get('scale_queries')} queries from the same distribution, one at a time, top 10;"
        f" HNSW {r.get('scale_hnsw_params')}, built by `rag.store.build_faiss`;"
        f" FAISS threads {r.get('scale_threads')}. Memory = bytes FAISS writes for the index."
        " numpy = the matrix product + top-k that `HybridRetriever` runs for its dense side today.",
        "",
        "| vectors | flat build s | flat MB | flat p50 / p95 ms | numpy p50 ms | HNSW build s | HNSW MB |"
        " HNSW p50 / p95 ms | HNSW recall@10 | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sizes:
        p = f"scale_{s}_"
        lines.append(
            f"| {s} | {r.get(p + 'flat_build_s')} | {r.get(p + 'flat_memory_mb')} | {r.get(p + 'flat_p50_ms')} /"
            f" {r.get(p + 'flat_p95_ms')} | {r.get(p + 'numpy_p50_ms')} | {r.get(p + 'hnsw_build_s')} |"
            f" {r.get(p + 'hnsw_memory_mb')} | {r.get(p + 'hnsw_p50_ms')} / {r.get(p + 'hnsw_p95_ms')} |"
            f" {r.get(p + 'hnsw_recall_at_10')} | {r.get(p + 'load_avg')} |"
        )
    lines += [
        "",
        "`RAG_ANN_INDEX=auto` (the default) saves a flat index below `RAG_ANN_THRESHOLD` vectors (100,000)"
        " and HNSW from there on; `flat` / `hnsw` force one. The setting is not part of the chunking"
        " signature: it applies at the next save, and a loaded index of the other type is rebuilt in"
        " memory from its saved vectors.",
        "",
    ]
    return lines


def _pgvector(r: dict[str, Any], v: Any) -> list[str]:
    sizes = sorted({k[3:].split("_")[0] for k in r if k.startswith("pg_") and k.endswith("_ef40_p50_ms")},
                   key=_count)
    if not sizes:
        return []

    lines = [
        "## Scale: pgvector (Postgres) beside FAISS",
        "",
        f"The scale section's vectors and queries ({v('pg_vectors')}; {v('pg_queries')} queries, one at"
        " a time, top 10) in a table with production's column type and index DDL (`embedding vector(384)`,"
        f" `USING hnsw (embedding vector_cosine_ops)`: {v('pg_hnsw_params')}), served by a"
        f" {v('pg_server')}; {v('pg_settings')}. Load = binary COPY of id + vector (no text"
        " columns, unlike a real collection); build = `CREATE INDEX` after the load, in memory with parallel"
        " workers (production creates the index on the empty table and inserts into it, which builds the"
        " same graph more slowly); MB = `pg_table_size` of the table and `pg_total_relation_size` of the"
        " index. Query = `SELECT id ... ORDER BY embedding <=> q LIMIT 10` over the unix socket, client-side"
        " round trip, at `hnsw.ef_search` 40 (pgvector's default), 200 (the candidates `rag.pgsearch` asks"
        " for) and, where measured, 400 (what it sets since stop 13: twice the candidates); recall@10 against the exact top 10 (FAISS flat on the same vectors). Exact = the"
        " same SQL with `enable_indexscan = off` (a sequential scan), measured in the same run. FAISS rows"
        " are the scale section's figures for the same vectors when it ran that size (its HNSW has other"
        " parameters, and its MB is the serialised index in memory, not disk).",
        "",
        "| vectors | set-up | load s | index build s | table MB | index MB | p50 / p95 ms | recall@10 | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sizes:
        p, f = f"pg_{s}_", f"scale_{s}_"
        lines.append(
            f"| {s} | pgvector HNSW, ef_search 40 | {v(p + 'load_s')} | {v(p + 'build_s')} |"
            f" {v(p + 'table_mb')} | {v(p + 'index_mb')} | {v(p + 'ef40_p50_ms')} /"
            f" {v(p + 'ef40_p95_ms')} | {v(p + 'ef40_recall_at_10')} | {v(p + 'load_avg')} |")
        for ef in sorted(int(k[len(p) + 2:-7]) for k in r if k.startswith(p + "ef") and k.endswith("_p50_ms")):
            if ef != 40:
                lines.append(f"| {s} | pgvector HNSW, ef_search {ef} | | | | | {v(p + f'ef{ef}_p50_ms')} /"
                             f" {v(p + f'ef{ef}_p95_ms')} | {v(p + f'ef{ef}_recall_at_10')} | |")
        lines.append(f"| {s} | pgvector exact ({r.get(p + 'exact_plan', 'seq scan')}) | | | | |"
                     f" {v(p + 'exact_p50_ms')} / {v(p + 'exact_p95_ms')} |"
                     f" {v(p + 'exact_recall_at_10')} | |")
        if r.get(f + "hnsw_p50_ms") is not None:
            lines.append(
                f"| {s} | FAISS HNSW ({v('scale_hnsw_params')}) | | {v(f + 'hnsw_build_s')} | |"
                f" {v(f + 'hnsw_memory_mb')} (memory) | {v(f + 'hnsw_p50_ms')} / {v(f + 'hnsw_p95_ms')} |"
                f" {v(f + 'hnsw_recall_at_10')} | {v(f + 'load_avg')} |")
        if r.get(f + "flat_p50_ms") is not None:
            lines.append(
                f"| {s} | FAISS flat (exact) | | {v(f + 'flat_build_s')} | | {v(f + 'flat_memory_mb')}"
                f" (memory) | {v(f + 'flat_p50_ms')} / {v(f + 'flat_p95_ms')} | 1.0 | |")
    notes = [f"{s}: {r[f'pg_{s}_build_notices']}" for s in sizes if r.get(f"pg_{s}_build_notices")]
    if notes:
        lines += ["", "Index build messages from pgvector: " + "; ".join(notes) + "."]
    lines.append("")
    return lines


def _count(size_label: str) -> float:
    """Vectors in a size label: 500, 18k, 1m."""
    scale = {"k": 1e3, "m": 1e6}.get(size_label[-1:], 1.0)
    try:
        return float(size_label.rstrip("km")) * scale
    except ValueError:
        return 0.0


def _minutes(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "—"
    return f"{seconds / 60:.1f} min"
