from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.assistant import Assistant

MONITORING = "product-management-with-a-data-science-mindset.md"


def test_hybrid_search_finds_the_article_in_other_words(built_index, embedder):
    a = Assistant.load(built_index, embedder=embedder)
    hits = a.search("Why do ML features need ongoing monitoring after launch?", k=4)
    assert hits[0].doc_id == MONITORING
    assert hits[0].dense > 0.3 and hits[0].rank == 1
    assert [h.rank for h in hits] == [1, 2, 3, 4]


def test_keyword_only_match_is_found_by_bm25(built_index, embedder):
    a = Assistant.load(built_index, embedder=embedder)
    hits = a.search("Cursor", k=5)  # a tool name: lexical, not semantic
    assert any("Cursor" in h.chunk.text for h in hits)


def test_langchain_retriever_returns_documents_with_metadata(built_index, embedder):
    a = Assistant.load(built_index, embedder=embedder)
    retriever = a.retriever
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("How should an ML PM work with the data science team?")
    assert docs and isinstance(docs[0], Document)
    meta = docs[0].metadata
    text = a.index.articles[meta["doc_id"]].text
    assert text[meta["start"] : meta["end"]] == docs[0].page_content


# --- fusion, feedback, MMR, documents -------------------------------------------------------

def _retriever(settings, embedder, **kw):
    import dataclasses

    from rag.assistant import retrieval_config
    from rag.retrieval import HybridRetriever
    from rag.store import FaissStore

    data = FaissStore(settings.index_dir).load()
    return HybridRetriever(data, embedder, dataclasses.replace(retrieval_config(settings), **kw))


def test_every_fusion_and_second_stage_finds_the_article(built_index, embedder):
    q = "Why do ML features need ongoing monitoring after launch?"
    plain = _retriever(built_index, embedder, feedback_docs=0).search(q, 4)
    for kw in ({"fusion": "rrf"}, {"fusion": "blend"},
               {"feedback_docs": 5, "rocchio_beta": 0.5, "rm3_mix": 0.3},
               {"title_repeat": 2, "bm25_k1": 0.9, "bm25_b": 0.4}):
        hits = _retriever(built_index, embedder, **kw).search(q, 4)
        assert hits[0].doc_id == MONITORING, kw
        assert [h.rank for h in hits] == [1, 2, 3, 4]
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    # Feedback changes the ranking, never the reported cosine (refusal gating relies on it).
    fed = _retriever(built_index, embedder, feedback_docs=5, rocchio_beta=1.0, rm3_mix=0.5)
    by_chunk = {h.chunk.chunk_id: h.dense for h in plain}
    for h in fed.search(q, 4):
        if h.chunk.chunk_id in by_chunk:
            assert h.dense == pytest.approx(by_chunk[h.chunk.chunk_id], abs=1e-5)


def test_mmr_spreads_passages_over_more_articles(built_index, embedder):
    q = "How should an ML PM work with the data science team?"
    plain = _retriever(built_index, embedder, mmr_lambda=1.0).search(q, 6)
    diverse = _retriever(built_index, embedder, mmr_lambda=0.3).search(q, 6)
    assert diverse[0].chunk == plain[0].chunk  # the best passage stays first
    assert len({h.doc_id for h in diverse}) >= len({h.doc_id for h in plain})
    assert len({h.chunk.chunk_id for h in diverse}) == 6


def test_search_documents_aggregates_chunks(built_index, embedder):
    q = "Why do ML features need ongoing monitoring after launch?"
    for agg in ("max", "sum"):
        docs = _retriever(built_index, embedder, doc_aggregation=agg).search_documents(q, 5)
        assert docs[0].doc_id == MONITORING
        assert len({d.doc_id for d in docs}) == len(docs) and [d.rank for d in docs] == list(range(1, len(docs) + 1))


def test_bad_retrieval_settings_are_config_errors():
    from rag.errors import ConfigError
    from rag.retrieval import RetrievalConfig

    with pytest.raises(ConfigError, match="fusion"):
        RetrievalConfig(fusion="sum")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="mmr_lambda"):
        RetrievalConfig(mmr_lambda=1.5)


def test_weighted_bm25_matches_bm25s_and_rm3_adds_feedback_terms():
    import bm25s
    import numpy as np
    import Stemmer

    from rag.lexical import LexicalIndex

    texts = ["roadmap planning for product teams", "stakeholder interviews and roadmap reviews",
             "kanban boards limit work in progress", "discovery interviews with customers"]
    lex = LexicalIndex(texts)
    stem = Stemmer.Stemmer("english")
    ref = bm25s.BM25(k1=1.2, b=0.75)
    ref.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False), show_progress=False)
    q = "roadmap interviews"
    tokens = bm25s.tokenize([q], stopwords="en", stemmer=stem, return_ids=False, show_progress=False)[0]
    np.testing.assert_allclose(lex.scores(lex.query_terms(q)), ref.get_scores(tokens), rtol=1e-5)
    terms = lex.query_terms("roadmap")
    expanded = lex.expand(terms, [1], [1.0], terms=5, mix=0.5)
    assert set(terms) < set(expanded) and sum(expanded.values()) == pytest.approx(1.0)
    assert lex.scores(expanded)[3] > 0 == lex.scores(terms)[3]  # reached via "interviews"


_SEEDED_BM25 = """
import hashlib, json, sys
from pathlib import Path
from rag.lexical import LexicalIndex
texts = [p for f in sorted(Path(sys.argv[1]).glob("*.md")) for p in f.read_text().split("\\n\\n") if p.strip()]
lex = LexicalIndex(texts)
terms = lex.query_terms(sys.argv[2])
scores = lex.scores(terms)
top = sorted(range(len(texts)), key=lambda i: -scores[i])[:3]
expanded = lex.expand(terms, top, [float(scores[i]) for i in top], terms=10, mix=0.5)
words = {col: w for w, col in lex.vocab.items()}
print(hashlib.sha256(scores.tobytes()).hexdigest(), json.dumps(sorted((words[c], v) for c, v in expanded.items())))
"""


def test_bm25_and_rm3_give_the_same_scores_in_every_process():
    """bm25s numbers its terms in a Python set's order, which changes with PYTHONHASHSEED; the
    numbering decides the order scores are summed in and how RM3 breaks ties, so after a
    restart the same question got another 4th passage (blind2 c10, stop 28)."""
    import os
    import subprocess
    import sys

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    question = ("I'm about to tell my team to take Google's ML crash course because the newsletter recommended it."
                " Did the person who recommended it actually take it?")
    outputs = {subprocess.run([sys.executable, "-c", _SEEDED_BM25, str(corpus), question], check=True,
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": str(seed)},
                              ).stdout for seed in range(4)}
    assert len(outputs) == 1, outputs


def test_acronyms_expand_in_both_directions_and_respect_case():
    from rag.lexical import DEFAULT_ACRONYMS, expand_acronyms

    assert expand_acronyms("How do I work with data scientists?", DEFAULT_ACRONYMS).endswith(" DS")
    assert expand_acronyms("What does the DS team need?", DEFAULT_ACRONYMS).endswith(" data science")
    assert expand_acronyms("How do I read ds files?", DEFAULT_ACRONYMS) == "How do I read ds files?"
    assert expand_acronyms("The DS (data science) team", DEFAULT_ACRONYMS) == "The DS (data science) team"


def test_long_form_question_finds_the_passage_that_abbreviates(built_index, embedder):
    from rag.assistant import Assistant

    a = Assistant.load(built_index, embedder=embedder)
    hits = a.search("What should a PM learn before working with data scientists?", k=4)
    assert any("What should I know?" in h.chunk.text for h in hits)


def test_document_bm25_ranks_a_document_whose_terms_are_spread_over_chunks(tmp_path):
    """Whole-document BM25 (`doc_bm25_weight`): "two-chunks" has all four query terms, split
    over two chunks; "one-chunk" has three of them in one chunk, so chunk BM25 alone prefers
    it. (Ids sort so that a tie, e.g. an all-zero BM25 side, puts "cooking" first.)"""
    import numpy as np

    from rag.assistant import retrieval_config
    from rag.chunking import Chunk
    from rag.config import Settings
    from rag.documents import Article
    from rag.errors import ConfigError
    from rag.retrieval import HybridRetriever, RetrievalConfig
    from rag.store import IndexData

    parts = {"two-chunks": ["graphene lattice strain", "twisted superconductivity"],
             "one-chunk": ["graphene lattice superconductivity"],
             "weather": ["forecast for the coast"], "cooking": ["recipe with flour and sugar"]}
    articles, chunks = {}, []
    for doc, texts in parts.items():
        text = "\n".join(texts)
        articles[doc] = Article(doc, f"Note {doc}", text, doc)
        start = 0
        for i, t in enumerate(texts):
            chunks.append(Chunk(doc, i, start, start + len(t), "", t))
            start += len(t) + 1
    data = IndexData({}, articles, chunks, np.full((len(chunks), 4), 0.5, dtype=np.float32))

    class Flat:  # every chunk equally similar: only BM25 decides
        def embed_query(self, text):
            return np.full(4, 0.5, dtype=np.float32)

    q = "graphene lattice twisted superconductivity"
    for feedback in (0, 3):
        def top(w, feedback=feedback):
            cfg = RetrievalConfig(doc_bm25_weight=w, feedback_docs=feedback)
            return [d.doc_id for d in HybridRetriever(data, Flat(), cfg).search_documents(q, 4)]

        assert top(0.0)[0] == "one-chunk", feedback
        assert top(1.0)[0] == "two-chunks", feedback
    assert RetrievalConfig().doc_bm25_weight == Settings().doc_bm25_weight > 0
    assert retrieval_config(Settings.load(doc_bm25_weight=0.25)).doc_bm25_weight == 0.25
    with pytest.raises(ConfigError):
        RetrievalConfig(doc_bm25_weight=1.5)
