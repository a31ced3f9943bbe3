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
