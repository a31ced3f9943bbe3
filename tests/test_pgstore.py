"""The Postgres + pgvector store against a REAL PostgreSQL 16 with pgvector (`pg_url`,
started by pgserver), with the real embedder, the real corpus and `pmrag` as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest

from rag.assistant import Assistant
from rag.chunking import Chunk
from rag.config import Settings
from rag.documents import Article
from rag.errors import IndexLockedError, IndexMismatchError, IndexMissingError, StoreUnavailableError
from rag.indexing import update_index
from rag.pgstore import PgStore
from rag.store import FaissStore, IndexData
from rag.stores import Store, open_store
from tests.crash_child import HashEmbedder

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "What should a PM learn before working with data scientists?",
    "Why is monitoring important for ML products?",
    "How do I become a more technical product manager?",
    "What does an AI product manager do?",
    "How to define success metrics for a machine learning model?",
    "What happens in a sprint?",
]


def _name() -> str:
    return "t-" + uuid.uuid4().hex[:8]


def _pg_settings(settings: Settings, url: str, collection: str, **kw) -> Settings:
    return settings.model_copy(update=dict(store_url=url, collection=collection, **kw))


def pmrag(*args: str, cwd: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


# --- the same contract for both stores -----------------------------------------------------

SIG = {"embed_model": "m", "chunk_tokens": 128, "chunk_overlap": 24, "dim": 4}


def _data(n_docs: int) -> IndexData:
    arts, chunks, vecs = {}, [], []
    for d in range(n_docs):
        text = f"document {d} about roadmaps"
        arts[f"d{d}.md"] = Article(f"d{d}.md", f"Doc {d}", text, f"h{d}")
        chunks.append(Chunk(f"d{d}.md", 0, 0, len(text), "", text))
        v = np.zeros(4, np.float32)
        v[d % 4] = 1
        vecs.append(v)
    return IndexData(dict(SIG, documents={d: {"content_hash": a.content_hash} for d, a in arts.items()}),
                     arts, chunks, np.vstack(vecs))


@pytest.fixture(params=["faiss", "postgres"])
def any_store(request, tmp_path: Path) -> Store:
    if request.param == "faiss":
        return FaissStore(tmp_path / "index")
    return PgStore(request.getfixturevalue("pg_url"), _name())


def test_contract_missing_save_load_reload_mismatch(any_store: Store):
    assert isinstance(any_store, Store)
    assert not any_store.exists()
    with pytest.raises(IndexMissingError, match="pmrag index"):
        any_store.load(SIG)
    with any_store.lock():
        first = any_store.save(_data(2))
    assert any_store.current_generation() == first
    data = any_store.load(SIG)
    assert [c.doc_id for c in data.chunks] == ["d0.md", "d1.md"]
    assert np.allclose(data.vectors, _data(2).vectors)
    assert data.articles["d1.md"].title == "Doc 1"
    with any_store.lock():
        second = any_store.save(_data(3))  # update: one article added
    assert second != first and any_store.current_generation() == second
    assert len(any_store.load(SIG).chunks) == 3
    with any_store.lock():
        any_store.save(_data(1))  # delete
    assert [c.doc_id for c in any_store.load(SIG).chunks] == ["d0.md"]
    with pytest.raises(IndexMismatchError, match="chunk_tokens: index has 128, settings say 64"):
        any_store.load(dict(SIG, chunk_tokens=64))


def test_contract_second_writer_fails_fast(any_store: Store):
    with any_store.lock():
        with pytest.raises(IndexLockedError, match="another `pmrag index`"):
            with any_store.lock():
                pass
    with any_store.lock():  # released again
        pass


# --- same answers as FAISS --------------------------------------------------------------------

def test_postgres_returns_the_same_passages_as_faiss(built_index: Settings, embedder, pg_url: str):
    pg = _pg_settings(built_index, pg_url, _name())
    report = update_index(pg, embedder)
    assert report.documents == 5 and not report.failed
    faiss_a = Assistant.load(built_index, embedder=embedder, chat_model=object())
    pg_a = Assistant.load(pg, embedder=embedder, chat_model=object())
    assert type(pg_a.store).__name__ == "PgStore" and pg_a.index.manifest["chunks"] == report.chunks
    for q in QUESTIONS:
        f_hits, p_hits = faiss_a.search(q, 4), pg_a.search(q, 4)
        assert [h.chunk for h in p_hits] == [h.chunk for h in f_hits], q
        for f, p in zip(f_hits, p_hits, strict=True):
            assert p.dense == pytest.approx(f.dense, abs=1e-4)
            assert p.bm25 == pytest.approx(f.bm25, rel=1e-3)
            assert p.score == pytest.approx(f.score, abs=1e-3)
    # The LangChain retriever and the document ranking go through the same path.
    docs = pg_a.retriever.invoke(QUESTIONS[0])
    assert [d.metadata["chunk_id"] for d in docs] == [h.chunk.chunk_id for h in faiss_a.search(QUESTIONS[0])]
    f_docs = faiss_a._current().search_documents(QUESTIONS[1], 3)
    p_docs = pg_a._current().search_documents(QUESTIONS[1], 3)
    assert [d.doc_id for d in p_docs] == [d.doc_id for d in f_docs]


# --- incremental updates ----------------------------------------------------------------------

def _rows(store: PgStore) -> dict[str, list[int]]:
    with store.snapshot_session() as (conn, row):
        chunks_t, _ = store.tables(row[0])
        out: dict[str, list[int]] = {}
        for doc_id, cid in conn.execute(f"SELECT doc_id, id FROM {chunks_t.as_string(conn)} ORDER BY id"):
            out.setdefault(doc_id, []).append(cid)
        return out


def _terms_consistent(store: PgStore) -> None:
    """The document-frequency table equals a recount from the chunk rows."""
    with store.snapshot_session() as (conn, row):
        chunks_t, terms_t = (t.as_string(conn) for t in store.tables(row[0]))
        recount = dict(conn.execute(f"SELECT u.lexeme, count(*) FROM {chunks_t}, unnest(tsv) u GROUP BY 1"))
        stored = dict(conn.execute(f"SELECT lexeme, df FROM {terms_t}"))
        n = conn.execute(f"SELECT count(*) FROM {chunks_t}").fetchone()[0]
    assert stored == recount and row[4] == n


def test_incremental_update_reembeds_only_changed_and_removed_leave_no_rows(corpus_settings: Settings,
                                                                              embedder, pg_url: str):
    settings = _pg_settings(corpus_settings, pg_url, _name())
    first = update_index(settings, embedder)
    store = PgStore(pg_url, settings.collection)
    before = _rows(store)
    corpus = settings.corpus_dir
    changed, removed = "sprint-2-do-what-you-do.md", "becoming-a-more-technical-product-manager.md"
    with (corpus / changed).open("a") as fh:
        fh.write("\n\n## Retro\n\nA brand new closing section about sprint retrospectives and velocity.\n")
    (corpus / removed).unlink()

    second = update_index(settings, embedder)
    assert second.changed == [changed] and second.removed == [removed] and second.added == []
    after = _rows(store)
    assert second.embedded_chunks == len(after[changed])  # only the changed article was chunked/embedded
    assert removed not in after
    for doc in set(before) - {changed, removed}:
        assert after[doc] == before[doc], f"{doc} rows were rewritten"
    assert not set(after[changed]) & set(before[changed])
    with psycopg.connect(pg_url) as conn:
        left = conn.execute("SELECT count(*) FROM pmrag_articles a JOIN pmrag_collections c ON"
                            " c.id = a.collection_id WHERE c.name = %s AND a.doc_id = %s",
                            (settings.collection, removed)).fetchone()[0]
    assert left == 0
    _terms_consistent(store)
    assert sum(len(v) for v in after.values()) == second.chunks < first.chunks
    # The new text is searchable right away, through a freshly loaded assistant.
    hits = Assistant.load(settings, embedder=embedder, chat_model=object()).search("sprint retrospectives velocity")
    assert hits[0].doc_id == changed and "retrospectives" in hits[0].chunk.text
    again = update_index(settings, embedder)
    assert (again.added, again.changed, again.removed, again.embedded_chunks) == ([], [], [], 0)
    assert store.current_generation() == PgStore(pg_url, settings.collection).current_generation()


# --- concurrency --------------------------------------------------------------------------------

def test_reader_in_another_process_sees_old_or_new_never_a_mix(tmp_path: Path, pg_url: str):
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = Settings.load(corpus_dir=corpus, index_dir=tmp_path / "index", embed_model="hash-embedder",
                             store_url=pg_url, collection=_name())
    emb = HashEmbedder()
    update_index(settings, emb)
    all_docs = sorted(p.name for p in corpus.iterdir())
    moved = tmp_path / "aside.md"
    reader = subprocess.Popen([sys.executable, "-m", "tests.pg_reader_child", pg_url, settings.collection, "12"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    updates = 0
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        # Alternate: version B drops one article and rewrites another; version A restores both.
        target = corpus / all_docs[0]
        if moved.exists():
            shutil.move(moved, corpus / all_docs[1])
            target.write_text(target.read_text().replace(" [rev]", ""))
        else:
            shutil.move(corpus / all_docs[1], moved)
            target.write_text(target.read_text() + " [rev]")
        update_index(settings, emb, wait_for_lock=True)
        updates += 1
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    seen = [json.loads(line) for line in out.splitlines()]
    assert len(seen) > 20 and updates > 3
    assert all(s["same"] for s in seen), "a reader saw articles and chunks of different versions"
    assert all(s["hits_ok"] and s["hits"] > 0 for s in seen), "a search returned chunks of another version"
    versions = {tuple(s["docs"]) for s in seen}
    assert versions <= {tuple(all_docs), tuple(d for d in all_docs if d != all_docs[1])}
    assert len({s["generation"] for s in seen}) >= 3


def test_second_pmrag_index_fails_with_a_clear_message_or_waits(corpus_settings: Settings, pg_url: str,
                                                                 cache_dir: Path):
    collection = _name()
    env = {"RAG_STORE_URL": pg_url, "RAG_COLLECTION": collection, "RAG_CACHE_DIR": str(cache_dir)}
    cwd = corpus_settings.corpus_dir.parent
    store = PgStore(pg_url, collection)
    with store.lock():
        done = pmrag("index", "--json", cwd=cwd, env_extra=env)
    assert done.returncode == 2
    assert "another `pmrag index` is updating" in done.stderr and collection in done.stderr
    assert not store.exists()  # nothing was written
    # --wait: blocks while the lock is held, then runs.
    hold = threading.Event()

    def holder() -> None:
        with store.lock():
            hold.set()
            time.sleep(3)

    t = threading.Thread(target=holder)
    t.start()
    hold.wait()
    t0 = time.monotonic()
    done = pmrag("index", "--wait", "--json", cwd=cwd, env_extra=env)
    t.join()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - t0 > 2.5 and json.loads(done.stdout)["documents"] == 5


# --- migrate, mismatch, collections, errors ------------------------------------------------------

def test_migrate_copies_a_faiss_index_without_reembedding(built_index: Settings, pg_url: str, embedder):
    collection = _name()
    done = pmrag("store", "migrate", "--from", str(built_index.index_dir), "--to", pg_url,
                 "--collection", collection, "--json", cwd=built_index.index_dir.parent)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    src = FaissStore(built_index.index_dir).load()
    assert result["chunks"] == len(src.chunks) and result["documents"] == 5
    copied = PgStore(pg_url, collection).load(dict(built_index.chunking_signature(), dim=embedder.dim))
    assert copied.chunks == src.chunks
    assert np.array_equal(copied.vectors, src.vectors)  # the very same vectors, not re-embedded
    assert copied.manifest["documents"] == src.manifest["documents"]
    assert {d: a.text for d, a in copied.articles.items()} == {d: a.text for d, a in src.articles.items()}
    # `pmrag index` on top of the migrated collection finds nothing to do.
    report = update_index(_pg_settings(built_index, pg_url, collection), embedder)
    assert (report.added, report.changed, report.removed, report.embedded_chunks) == ([], [], [], 0)


def test_store_built_with_another_setup_is_refused(built_index: Settings, pg_url: str, embedder):
    settings = _pg_settings(built_index, pg_url, _name())
    update_index(settings, embedder)
    other = settings.model_copy(update={"chunk_tokens": 64})
    with pytest.raises(IndexMismatchError, match="chunk_tokens: index has 128, settings say 64"):
        Assistant.load(other, embedder=embedder, chat_model=object())
    done = pmrag("ask", "anything", cwd=built_index.corpus_dir.parent,
                 env_extra={"RAG_STORE_URL": pg_url, "RAG_COLLECTION": settings.collection,
                            "RAG_CHUNK_TOKENS": "64", "RAG_CACHE_DIR": str(built_index.cache_dir)})
    assert done.returncode == 2 and "built with another setup" in done.stderr


def test_two_collections_in_one_database_are_isolated(tmp_path: Path, pg_url: str, embedder, cache_dir: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(REPO / "corpus" / "sprint-2-do-what-you-do.md", tmp_path / "a")
    shutil.copy(REPO / "corpus" / "product-management-with-a-data-science-mindset.md", tmp_path / "b")
    a = Settings.load(corpus_dir=tmp_path / "a", cache_dir=cache_dir, store_url=pg_url, collection=_name())
    b = a.model_copy(update={"corpus_dir": tmp_path / "b", "collection": _name()})
    update_index(a, embedder)
    update_index(b, embedder)
    gen_a = open_store(a).current_generation()
    for s, doc in ((a, "sprint-2-do-what-you-do.md"), (b, "product-management-with-a-data-science-mindset.md")):
        assistant = Assistant.load(s, embedder=embedder, chat_model=object())
        assert set(assistant.index.articles) == {doc}
        assert {h.doc_id for h in assistant.search("sprint data science product manager", 8)} == {doc}
    (tmp_path / "b" / "product-management-with-a-data-science-mindset.md").unlink()
    update_index(b, embedder)
    PgStore(pg_url, b.collection).drop()
    assert open_store(a).current_generation() == gen_a and not open_store(b).exists()
    assert Assistant.load(a, embedder=embedder, chat_model=object()).search("sprint")[0].doc_id == \
        "sprint-2-do-what-you-do.md"


def test_cli_store_flag_index_and_ask(corpus_settings: Settings, pg_url: str, cache_dir: Path):
    collection = _name()
    cwd = corpus_settings.corpus_dir.parent
    env = {"RAG_CACHE_DIR": str(cache_dir)}
    done = pmrag("index", "--store", pg_url, "--collection", collection, "--json", cwd=cwd, env_extra=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == 5
    assert not (cwd / "index").exists()  # nothing written to the FAISS folder
    cfg = pmrag("config", "--store", "postgresql://u:pw@db.example:5432/team", cwd=cwd, env_extra=env)
    assert '"store_url": "postgresql://u:****@db.example:5432/team"' in cfg.stdout


def test_connection_dropped_mid_update_rolls_back_and_keeps_the_previous_corpus(pg_url: str, monkeypatch):
    """The server ends the writer's session half-way through the update transaction (after
    the articles are written, before the chunks): a typed error that names the store, and
    readers still get the previous corpus, whole; the next update then works."""
    store = PgStore(pg_url, _name())
    with store.lock():
        before = store.save(_data(2))
    real_insert = PgStore._insert

    def insert_then_lose_the_connection(self, conn, cid, data, docs):
        pid = conn.info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as admin:  # what a network cut or DBA kill does
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        real_insert(self, conn, cid, data, docs)

    monkeypatch.setattr(PgStore, "_insert", insert_then_lose_the_connection)
    with store.lock(), pytest.raises(StoreUnavailableError, match=r"rolled back: .*\*\*\*\*.* still serves the previous corpus"):
        store.save(_data(3))
    monkeypatch.setattr(PgStore, "_insert", real_insert)
    reader = PgStore(pg_url, store.collection)
    assert reader.current_generation() == before
    assert sorted(reader.load(SIG).articles) == ["d0.md", "d1.md"]
    with store.lock():
        after = store.save(_data(3))
    assert reader.current_generation() == after and len(reader.load(SIG).chunks) == 3
