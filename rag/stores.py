"""The index store interface and the one factory that picks FAISS files or Postgres.

`Store` is what `rag.indexing`, `rag.assistant` and the page need from a saved index:
read the live generation's manifest, load it (refusing a mismatched setup), take the
writer lock, save a new generation. `rag.store.FaissStore` (files in `index/`, the
default) and `rag.pgstore.PgStore` (a shared Postgres + pgvector database, chosen by the
`store_url` setting / `RAG_STORE_URL` / `--store URL`) both satisfy it. `open_store` is the
only place that chooses between them; `open_retriever` pairs a store with its search
(in-process FAISS + BM25, or SQL in Postgres). What a store holds is left to the two
store modules; how hits are fused to `rag.retrieval` and `rag.pgsearch`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rag.config import Settings
from rag.store import AnnConfig, FaissStore, IndexData

if TYPE_CHECKING:
    from rag.embedding import Embedder
    from rag.retrieval import HybridRetriever, RetrievalConfig


@runtime_checkable
class Store(Protocol):
    """A place that holds generations of one index; one writer at a time, many readers."""

    root: Any  # where it lives, for messages (a folder, or a masked URL + collection)

    def current_generation(self) -> str | None: ...

    def exists(self) -> bool: ...

    def read_manifest(self, gen: str | None = None) -> dict[str, Any]: ...

    def load(self, expected: dict[str, Any] | None = None) -> IndexData: ...

    def lock(self, wait: bool = False) -> AbstractContextManager[None]: ...

    def save(self, data: IndexData) -> str: ...


def open_store(settings: Settings, url: str | None = None, collection: str | None = None) -> Store:
    """The store the settings name: Postgres when `store_url` (or `url`) is set, else the
    FAISS folder `index_dir`."""
    url = settings.store_url if url is None else url
    if url:
        from rag.pgstore import PgStore

        return PgStore(url, collection or settings.collection)
    return FaissStore(settings.index_dir, AnnConfig.from_settings(settings))


def open_retriever(store: Store, embedder: Embedder, expected: dict[str, Any],
                   config: RetrievalConfig) -> HybridRetriever:
    """A searcher over the store's live generation; raises IndexMismatchError if the store
    was built with another setup (`expected` is the chunking signature)."""
    if hasattr(store, "snapshot"):  # a PgStore; checked without importing psycopg for FAISS
        from rag.pgsearch import PgRetriever

        return PgRetriever(store, store.snapshot(expected), embedder, config)  # type: ignore[return-value]
    from rag.retrieval import HybridRetriever

    return HybridRetriever(store.load(expected), embedder, config)
