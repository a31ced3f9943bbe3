"""Shared fixtures: the real embedding model, a copy of the real corpus, temp index dirs.

Tests never write into the working tree: every corpus and index lives under tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.assistant import build_embedder
from rag.config import Settings
from rag.indexing import update_index

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Embeddings cache per test session; the bundled LLM is shared with the user's cache so
    # the 1.1 GB model is assembled only once per machine.
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def embedder(cache_dir: Path):
    return build_embedder(Settings.load(cache_dir=cache_dir))


def shown_passages(settings: Settings, embedder, question: str, max_tokens: int):
    """What the assistant would show the LLM for `question`: (index data, question vector,
    hits, article texts, passages). For tests of the steps after generation."""
    from rag.assistant import Assistant
    from rag.passages import select_passages

    assistant = Assistant.load(settings, embedder=embedder)
    data = assistant.index
    qvec = embedder.embed_query(question)
    hits = assistant.search(question, 4)
    texts = {d: art.text for d, art in data.articles.items()}
    passages = select_passages(qvec, hits, texts, embedder, max_tokens=max_tokens, articles=data.articles)
    return data, qvec, hits, texts, passages


def make_settings(tmp: Path, cache_dir: Path, **kw) -> Settings:
    return Settings.load(corpus_dir=tmp / "corpus", index_dir=tmp / "index", cache_dir=cache_dir, **kw)


@pytest.fixture()
def corpus_settings(tmp_path: Path, cache_dir: Path) -> Settings:
    """Settings pointing at a fresh copy of the real corpus and an empty index folder."""
    shutil.copytree(CORPUS, tmp_path / "corpus")
    return make_settings(tmp_path, cache_dir)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder) -> Settings:
    """One real index of the real corpus, shared by read-only tests."""
    tmp = tmp_path_factory.mktemp("built")
    shutil.copytree(CORPUS, tmp / "corpus")
    settings = make_settings(tmp, cache_dir)
    report = update_index(settings, embedder)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def one_reading(built_index: Settings) -> Settings:
    """`built_index` read once per question: for tests of what one reading does (retry, hold
    back, loop cut), whose scripted model would answer a second reading (rag.readings) alike."""
    return built_index.model_copy(update={"readings": 1})


@pytest.fixture(scope="session")
def local_llm():
    """The real bundled GGUF model (assembled by `make setup`)."""
    from rag.generation import build_chat_model

    return build_chat_model(Settings.load(llm="local"))


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A real PostgreSQL 16 + pgvector for this test session, from the PyPI package `pgserver`
    (initdb in a temp folder, unix socket only; as root it runs the server as a `pgserver`
    system user it creates). Deleted at the end of the session."""
    import tempfile

    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="pmrag-pg-"), cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()
