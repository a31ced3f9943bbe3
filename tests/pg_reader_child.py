"""Child process for the Postgres concurrency test: reads one collection over and over while
the parent updates it, and prints one JSON line per read saying what it saw."""

from __future__ import annotations

import json
import sys
import time

from rag.errors import IndexChangedError
from rag.pgsearch import PgRetriever
from rag.pgstore import PgStore
from tests.crash_child import HashEmbedder


def main() -> None:
    url, collection, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = PgStore(url, collection)
    embedder = HashEmbedder()
    retriever = PgRetriever(store, store.snapshot(), embedder)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        # 1. One snapshot: articles, manifest and chunk rows must describe the same corpus.
        with store.snapshot_session() as (conn, row):
            chunks_t, _ = store.tables(row[0])
            arts = dict(conn.execute("SELECT doc_id, content_hash FROM pmrag_articles WHERE collection_id = %s",
                                     (row[0],)).fetchall())
            chunk_docs = {r[0] for r in conn.execute(f"SELECT DISTINCT doc_id FROM {chunks_t.as_string(conn)}")}
        manifest = {d: m["content_hash"] for d, m in row[3]["documents"].items()}
        # 2. A search: its hits must be chunks of the articles the retriever holds.
        try:
            hits = retriever.search("product manager data science sprint", 5)
        except IndexChangedError:
            retriever = PgRetriever(store, store.snapshot(), embedder)
            hits = retriever.search("product manager data science sprint", 5)
        arts_r = retriever.data.articles
        hits_ok = all(h.doc_id in arts_r and arts_r[h.doc_id].text[h.chunk.start:h.chunk.end] == h.chunk.text
                      for h in hits)
        print(json.dumps({"generation": row[2], "docs": sorted(arts), "same": arts == manifest
                          and chunk_docs == set(arts), "hits_ok": hits_ok, "hits": len(hits)}), flush=True)


if __name__ == "__main__":
    main()
