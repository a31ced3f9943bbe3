"""Metrics against hand-computed values, the BEIR reader, and `pmrag eval retrieval` on a
tiny BEIR folder built in tmp_path (never the benchmark data)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.beir import load_beir, read_qrels
from rag.cli import main
from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation import (
    eval_index_dir,
    evaluate_retrieval,
    mrr_at,
    ndcg_at,
    recall_at,
    score_run,
)
from rag.store import FaissStore

DOCS = {
    "d1": ("Photosynthesis", "Plants turn sunlight, water and carbon dioxide into sugar and oxygen."),
    "d2": ("Black holes", "A black hole is a region of spacetime where gravity prevents light from escaping."),
    "d3": ("Sourdough bread", "Sourdough is leavened with wild yeast and lactic acid bacteria instead of baker's yeast."),
    "d4": ("Volcanoes", "Magma rises through the crust and erupts as lava, ash and volcanic gases."),
    "d5": ("Vaccines", "Vaccines train the immune system to recognise a pathogen without causing the disease."),
}
QUERIES = {
    "q1": "How do plants make sugar from light?",
    "q2": "What stops light escaping a black hole?",
    "q3": "Which microbes leaven sourdough?",
    "q9": "A query without judgements is skipped",
}
QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q3", "d3", 2)]


def make_beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as fh:
        for i, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": i, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as fh:
        for i, text in QUERIES.items():
            fh.write(json.dumps({"_id": i, "text": text}) + "\n")
    rows = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in QRELS]
    (root / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n")
    return root


def test_metrics_match_a_hand_computed_case():
    ranked = ["a", "b", "c", "d"]
    rels = {"b": 1, "d": 2, "e": 1}
    # DCG = 1/log2(3) + 2/log2(5); ideal = 2/log2(2) + 1/log2(3) + 1/log2(4)
    dcg = 1 / math.log2(3) + 2 / math.log2(5)
    idcg = 2 + 1 / math.log2(3) + 0.5
    assert ndcg_at(ranked, rels, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(ranked, rels, 10) == pytest.approx(0.47663, abs=1e-5)
    assert recall_at(ranked, rels, 10) == pytest.approx(2 / 3)
    assert recall_at(ranked, rels, 2) == pytest.approx(1 / 3)
    assert mrr_at(ranked, rels, 10) == 0.5
    assert mrr_at(ranked, rels, 1) == 0.0
    assert ndcg_at(["d", "b", "e"], rels, 10) == pytest.approx(1.0)


def test_score_run_averages_and_counts_missing_queries_as_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    ndcg, r10, r100, mrr, per = score_run({"q1": ["a", "x"]}, qrels, 10)
    assert (ndcg, r10, r100, mrr) == (0.5, 0.5, 0.5, 0.5)
    assert per == {"q1": 1.0, "q2": 0.0}


def test_beir_reader_keeps_judged_queries_and_names_missing_split(tmp_path: Path):
    root = make_beir(tmp_path / "beir")
    ds = load_beir(root, "test")
    assert set(ds.queries) == {"q1", "q2", "q3"}  # q9 has no judgement
    assert ds.articles["d2"].title == "Black holes" and ds.articles["d2"].text.startswith("A black hole")
    assert read_qrels(root / "qrels" / "test.tsv")["q3"] == {"d3": 2}
    with pytest.raises(DatasetError, match="found: test"):
        load_beir(root, "dev")
    with pytest.raises(DatasetError, match="corpus.jsonl"):
        load_beir(tmp_path, "test")


def test_eval_builds_the_index_once_and_scores_an_easy_benchmark(tmp_path: Path, embedder):
    root = make_beir(tmp_path / "beir")
    settings = Settings.load(cache_dir=tmp_path / "cache")
    report = evaluate_retrieval(settings, embedder, root, split="test")
    assert report.queries == 3
    assert report.ndcg_10 == pytest.approx(1.0) and report.mrr_10 == 1.0 and report.recall_100 == 1.0
    assert report.latency_ms_p95 >= report.latency_ms_p50 > 0
    store = FaissStore(eval_index_dir(settings, load_beir(root, "test"), embedder))
    assert Path(report.index_dir) == store.root
    generation = store.current_generation()
    evaluate_retrieval(settings, embedder, root, split="test")
    assert store.current_generation() == generation  # reused, not rebuilt


def test_cli_eval_retrieval_prints_one_json_object(tmp_path: Path, monkeypatch, capsys):
    root = make_beir(tmp_path / "beir")
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["eval", "retrieval", "--dataset", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("ndcg@10", "recall@10", "recall@100", "mrr@10", "latency_ms_p50", "latency_ms_p95"):
        assert 0 <= out[key]
    assert out["queries"] == 3 and out["ndcg@10"] == 1.0
    assert main(["eval", "retrieval", "--dataset", str(root), "--split", "nope"]) == 2
