"""Connecting to the shared Postgres + pgvector database, and the schema every collection lives in.

`connect` opens an autocommit connection and, once per URL and process, creates or checks
the schema (tables, the pgvector extension and the `pmrag_english` text search configuration)
under an advisory lock, so two processes starting at once do not race; `explain` turns a
failed database call into one message that says what to fix. `lexical_text` is the text the
schema's BM25 columns index, tokenised as the in-process BM25 does. The collections
themselves (save, load, locks) are `rag.pgstore`'s; searching them is `rag.pgsearch`'s.
"""

from __future__ import annotations

import re

import psycopg
from bm25s.stopwords import STOPWORDS_EN
from pgvector.psycopg import register_vector

from rag.config import mask_url
from rag.errors import StoreUnavailableError

SCHEMA_VERSION = 1
LOCK_CLASS = 0x706D  # advisory-lock namespace of pmrag ("pm")
_ready: set[str] = set()  # URLs whose schema this process has checked

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pmrag_collections (
    id serial PRIMARY KEY, name text NOT NULL UNIQUE, dim int NOT NULL,
    generation text NOT NULL, manifest jsonb NOT NULL,
    n_chunks bigint NOT NULL DEFAULT 0, avg_len float8 NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS pmrag_articles (
    collection_id int NOT NULL REFERENCES pmrag_collections(id) ON DELETE CASCADE,
    doc_id text NOT NULL, content_hash text NOT NULL, title text NOT NULL, text text NOT NULL,
    metadata jsonb NOT NULL, page_starts jsonb NOT NULL, PRIMARY KEY (collection_id, doc_id));
CREATE TEXT SEARCH DICTIONARY pmrag_english_stem (TEMPLATE = snowball, LANGUAGE = english);
CREATE TEXT SEARCH CONFIGURATION pmrag_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION pmrag_english ALTER MAPPING FOR asciiword, asciihword, hword_asciipart,
    word, hword, hword_part WITH pmrag_english_stem;
"""
_WORD = re.compile(r"(?u)\b\w\w+\b")


def lexical_text(text: str) -> str:
    """Text as the in-process BM25 tokenises it (bm25s: words of 2+ characters, lower case,
    Lucene's 33 English stop words dropped), for Postgres to stem with Snowball English
    (config `pmrag_english`: no stop-word list of its own), so both paths score the same terms."""
    return " ".join(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS_EN)


def explain(exc: Exception, url: str, doing: str = "connect to") -> StoreUnavailableError:
    """One clear message for a failed database call: what, where (password masked), the fix."""
    where, first = mask_url(url), (str(exc).strip().splitlines() or [""])[0]
    low = str(exc).lower()
    if "password authentication failed" in low or "no password supplied" in low:
        fix = "wrong user or password: fix them in RAG_STORE_URL / --store"
    elif "does not exist" in low and "database" in low:
        fix = "the database does not exist: create it (createdb NAME) or fix the name in RAG_STORE_URL"
    elif "invalid" in low and ("dsn" in low or "connection option" in low or "uri" in low):
        fix = "not a valid URL: use postgresql://user:password@host:5432/database"
    else:
        fix = ("is the server running and are host and port right? (start Postgres or fix"
               " RAG_STORE_URL / --store)")
    return StoreUnavailableError(f"cannot {doing} Postgres at {where}: {first}; {fix}")


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection with the schema in place and pgvector types registered."""
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except (psycopg.Error, ValueError) as exc:
        raise explain(exc, url) from exc
    try:
        if url not in _ready:
            _ensure_schema(conn, url)
            _ready.add(url)
        register_vector(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_schema(conn: psycopg.Connection, url: str) -> None:
    where = mask_url(url)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
            if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is None:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE TABLE IF NOT EXISTS pmrag_schema_version ("
                         " version int NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            found = conn.execute("SELECT max(version) FROM pmrag_schema_version").fetchone()[0]
            if found is not None and found > SCHEMA_VERSION:
                raise StoreUnavailableError(
                    f"the pmrag schema in {where} is version {found}, this pmrag knows up to"
                    f" {SCHEMA_VERSION}; upgrade pm-learning-assistant on this machine")
            if found is None:  # version 1 is the first; later versions add migrations here
                conn.execute(_SCHEMA)
                conn.execute("INSERT INTO pmrag_schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StoreUnavailableError(
            f"the pgvector extension is not enabled in {where} and this user may not enable it;"
            " ask a database owner to run `CREATE EXTENSION vector;` in that database") from exc
    except (psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedFile) as exc:
        raise StoreUnavailableError(
            f"the Postgres server at {where} has no pgvector extension ({exc}); install it"
            " (e.g. `apt install postgresql-16-pgvector`, or the pgvector/pgvector Docker image)"
            " and run again") from exc
    except psycopg.OperationalError as exc:
        raise explain(exc, url, "set up the schema in") from exc
