"""The bench's plumbing, fast: report rendering, synthetic vectors, the scale section at a toy
size, and flag checking. Nothing here asserts a timing; `pmrag bench` measures, tests don't."""

from __future__ import annotations

import json

import numpy as np
import psycopg

from rag import bench
from rag.bench_ann import label, synthetic
from rag.bench_ann import run as run_scale
from rag.bench_report import render
from rag.cli import main
from rag.store import AnnConfig


def test_synthetic_vectors_are_normalised_and_reproducible() -> None:
    x = synthetic(500, seed=0)
    assert x.shape == (500, 384) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(x, synthetic(500, seed=0))
    assert label(10_000) == "10k" and label(1_000_000) == "1m"


def test_scale_section_reports_recall_and_latency_keys() -> None:
    out = run_scale([2000], 10, AnnConfig(hnsw_m=8, ef_construction=20, ef_search=32))
    for key in ("flat_p50_ms", "numpy_p50_ms", "hnsw_build_s", "hnsw_memory_mb", "hnsw_recall_at_10"):
        assert f"scale_2k_{key}" in out
    assert 0.0 <= out["scale_2k_hnsw_recall_at_10"] <= 1.0
    assert "ann_1m_p50_ms" not in out  # only a real 1M run may fill the headline keys


def test_report_renders_every_section_and_marks_missing_figures(tmp_path) -> None:
    results = {"command": "pmrag bench", "mode": "full", "machine_cores": 2, "duration_s": 600,
               "ingest_ratio_vs_raw_encode": 0.97, "ann_1m_p50_ms": 1.5, "ann_1m_recall_at_10": 0.98,
               "ask_first_token_s": 7.0, "scale_10k_flat_p50_ms": 0.5, "scale_10k_hnsw_p50_ms": 0.2,
               "ask_error": "RuntimeError: no model"}
    text = render(results)
    for heading in ("## Headline", "## Ingest", "## Incremental updates", "## Retrieval latency",
                    "## `ask` end to end", "## Memory", "## Scale", "## Sections that failed"):
        assert heading in text
    assert "**0.97**" in text and "| 10k |" in text and "—" in text
    json_path, md_path = bench.write(results, tmp_path)
    assert json.loads(json_path.read_text())["ann_1m_recall_at_10"] == 0.98
    assert md_path.read_text() == text


def test_bench_refuses_an_unknown_section(capsys) -> None:
    assert main(["bench", "--only", "nonsense", "--nice", "0"]) == 2
    assert "unknown section" in capsys.readouterr().err


def test_a_partial_rerun_replaces_only_its_sections() -> None:
    first = {"command": "pmrag bench", "mode": "full", "scale_1m_hnsw_recall_at_10": 0.93,
             "ann_1m_recall_at_10": 0.93, "scale_section_s": 800, "ingest_ratio_vs_raw_encode": 1.1}
    again = {"command": "pmrag bench --only scale", "mode": "full", "started_at": "t",
             "scale_1m_hnsw_recall_at_10": 0.97, "ann_1m_recall_at_10": 0.97, "scale_section_s": 810,
             "ingest_ratio_vs_raw_encode": None}
    merged = bench.merge(first, again, ("scale",))
    assert merged["ann_1m_recall_at_10"] == 0.97 and merged["scale_section_s"] == 810
    assert merged["ingest_ratio_vs_raw_encode"] == 1.1 and merged["command"] == "pmrag bench"
    assert "--only scale" in merged["rerun"] and "re-run later" in render(merged)
    pg = bench.merge(merged, dict(again, command="pmrag bench --only pgvector", started_at="t2"), ("pgvector",))
    third = bench.merge(pg, dict(again, started_at="t3"), ("scale",))  # supersedes the first scale re-run
    assert third["rerun"].count("scale: ") == 1 and "at t3" in third["rerun"] and "pgvector: " in third["rerun"]


def test_a_rerun_on_another_cpu_names_it() -> None:
    first = {"command": "pmrag bench", "machine_cpu": "Intel(R) Xeon(R) Processor", "ask_first_token_s": 10.9}
    same = {"command": "pmrag bench --only ask", "started_at": "t", "machine_cpu": "Intel(R) Xeon(R) Processor",
            "ask_first_token_s": 10.1}
    assert " on " not in bench.merge(first, same, ("ask",))["rerun"]
    other = bench.merge(first, dict(same, machine_cpu="AMD EPYC"), ("ask",))
    assert "at t on AMD EPYC (load" in other["rerun"] and other["machine_cpu"] == "Intel(R) Xeon(R) Processor"


def test_pgvector_section_measures_a_real_server_and_renders_beside_faiss(pg_url: str) -> None:
    from rag.bench_pg import run as run_pg

    out = run_pg([500], 5, url=pg_url)
    for key in ("load_s", "build_s", "table_mb", "index_mb", "ef40_p50_ms", "ef40_p95_ms", "ef200_p50_ms",
                "ef200_p95_ms", "exact_p50_ms", "ef40_recall_at_10", "ef200_recall_at_10", "exact_recall_at_10"):
        assert f"pg_500_{key}" in out, key
    for ef in (40, 200):
        assert 0.9 <= out[f"pg_500_ef{ef}_recall_at_10"] <= 1.0
        assert out[f"pg_500_ef{ef}_plan"] == "Index Scan (hnsw)"  # the index was really used
    assert "Seq Scan" in out["pg_500_exact_plan"] and out["pg_500_exact_recall_at_10"] >= 0.99
    assert "m=16 ef_construction=64" in out["pg_hnsw_params"]
    with psycopg.connect(pg_url) as conn:  # each size's table is dropped
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'pmrag_bench_%'").fetchone()[0] == 0
    text = render({"command": "pmrag bench", "mode": "full", **out, "pg_1m_ef40_p50_ms": 2.0,
                   "scale_1m_hnsw_p50_ms": 3.3, "scale_1m_flat_p50_ms": 240.0})
    assert "## Scale: pgvector (Postgres) beside FAISS" in text
    assert "| 500 | pgvector HNSW, ef_search 40 |" in text and "| 1m | FAISS HNSW" in text
    assert "| 2.0 /" in text  # the headline row reads the 1M keys


def _tiny_beir(root, n: int = 14):
    from rag.beir import load_beir

    root.mkdir()
    with (root / "corpus.jsonl").open("w") as f:
        for i in range(n):
            text = f"Study {i} measured how product teams use model monitoring after launch. " * 3
            f.write(json.dumps({"_id": f"d{i}", "title": f"Study {i}", "text": text}) + "\n")
    (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "model monitoring"}) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td0\t1\n")
    return load_beir(root, "train")


def test_ingest_and_incremental_sections_run_with_the_default_embedder(tmp_path, cache_dir) -> None:
    """The sections build their own embedders: they must find the assembled default model
    (a missing models folder once failed both sections of a full run)."""
    from rag.bench_ingest import run_incremental, run_ingest
    from rag.config import Settings

    dataset = _tiny_beir(tmp_path / "beir")
    settings = Settings.load(cache_dir=cache_dir)
    out = run_ingest(dataset, 3, tmp_path / "work", settings)
    assert out["ingest_docs"] == 3 and out["ingest_chunks"] >= 3 and out["ingest_ratio_vs_raw_encode"] > 0
    incr, built = run_incremental(dataset, 10**9, tmp_path / "work", settings, out["ingest_pipeline_chunks_per_s"])
    assert incr["incr_corpus_docs"] == 3  # 14 documents, the last 11 held out to be added
    assert incr["incr_add_small_embedded_chunks"] >= 1 and incr["incr_add_large_embedded_chunks"] > 1
    from rag.store import FaissStore

    assert FaissStore(built.index_dir).read_manifest()["embed_model"] == settings.embed_model
