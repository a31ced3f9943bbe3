"""Connecting to Postgres and its schema, against a real PostgreSQL 16 + pgvector (`pg_url`):
failures say how to fix them, the schema is versioned, and BM25's text is tokenised as in
process."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from rag import pgschema
from rag.errors import StoreUnavailableError
from rag.pgstore import PgStore


def test_unreachable_server_and_missing_database_say_how_to_fix(pg_url: str):
    with pytest.raises(StoreUnavailableError) as exc:
        PgStore("postgresql://pm:s3cret@127.0.0.1:1/team", "default").exists()
    msg = str(exc.value)
    assert "postgresql://pm:****@127.0.0.1:1/team" in msg and "s3cret" not in msg
    assert "is the server running" in msg
    missing = pg_url.replace("/postgres?", "/no_such_db?")
    with pytest.raises(StoreUnavailableError, match="database does not exist: create it"):
        PgStore(missing).exists()


def test_schema_is_versioned_and_a_newer_schema_is_refused(pg_url: str):
    db = "v" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    url = pg_url.replace("/postgres?", f"/{db}?")
    assert not PgStore(url).exists()  # first use creates the schema
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM pmrag_schema_version").fetchall() == [(1,)]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'pmrag%'")}
        assert {"pmrag_schema_version", "pmrag_collections", "pmrag_articles"} <= tables
        conn.execute("INSERT INTO pmrag_schema_version (version) VALUES (99)")
    pgschema._ready.discard(url)  # this process checked it already
    with pytest.raises(StoreUnavailableError, match="version 99, this pmrag knows up to 1; upgrade"):
        PgStore(url).exists()


def test_lexical_text_drops_short_words_and_bm25s_stop_words():
    assert pgschema.lexical_text("The PM and a DS team: it is A/B testing!") == "pm ds team testing"
