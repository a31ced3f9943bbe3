"""Retrieval latency on corpus/: FAISS vs Postgres + pgvector (a throwaway pgserver), same
questions, query embeddings memoised so only retrieval is timed. Run from the repo root:
`nice -n 10 .venv/bin/python benchmarks/pg_latency.py` (figures in docs/postgres.md)."""
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pgserver

from rag.assistant import Assistant, build_embedder
from rag.config import Settings
from rag.indexing import update_index

REPO = Path(__file__).resolve().parents[1]

srv = pgserver.get_server(tempfile.mkdtemp(prefix="pgl"), cleanup_mode="delete")
tmp = Path(tempfile.mkdtemp())
shutil.copytree(REPO / "corpus", tmp / "corpus")
base = Settings.load(corpus_dir=tmp / "corpus", index_dir=tmp / "index", llm="none")
emb = build_embedder(base)
memo = {}
orig = emb.embed_query
emb.embed_query = lambda q: memo[q] if q in memo else memo.setdefault(q, orig(q))
pg = base.model_copy(update={"store_url": srv.get_uri()})
for s in (base, pg):
    update_index(s, emb)
qs = ["What should a PM learn before working with data scientists?", "Why is monitoring important for ML products?",
      "How do I become a more technical product manager?", "What does an AI product manager do?",
      "How to define success metrics for a machine learning model?", "What happens in a sprint?",
      "How do PMs work with engineers on technical debt?", "What is a data science mindset?"]
for name, s in (("faiss", base), ("postgres", pg)):
    a = Assistant.load(s, embedder=emb, chat_model=object())
    for q in qs:
        a.search(q)
    ts = []
    for _ in range(10):
        for q in qs:
            t = time.perf_counter()
            a.search(q)
            ts.append((time.perf_counter() - t) * 1000)
    print(f"{name}: retrieval p50 {np.percentile(ts, 50):.1f} ms, p95 {np.percentile(ts, 95):.1f} ms over {len(ts)} searches")
