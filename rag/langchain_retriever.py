"""The hybrid retriever as LangChain's `BaseRetriever`: `Document`s with the chunk's offsets,
scores and article metadata, for chains built on LangChain. Searching is `rag.retrieval`;
`Assistant.retriever` hands out one that follows index rebuilds.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.retrieval import Hit, HybridRetriever
from rag.store import IndexData


def hit_to_document(hit: Hit, data: IndexData) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text,
        metadata={"doc_id": c.doc_id, "title": hit.title, "heading": c.heading, "start": c.start,
                  "end": c.end, "score": hit.score, "dense": hit.dense, "bm25": hit.bm25,
                  "chunk_id": c.chunk_id,
                  **{k: v for k, v in data.articles[c.doc_id].metadata.items() if isinstance(v, str)}},
    )


class LangChainRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain `BaseRetriever` (returns `Document`s)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    source: Any  # a callable returning the current HybridRetriever (follows index swaps)
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        retriever: HybridRetriever = self.source()
        return [hit_to_document(h, retriever.data) for h in retriever.search(query, self.k)]
