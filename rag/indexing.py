"""Build or update the index from the corpus folder, incrementally by content hash.

`update_index` scans the corpus, compares each article's sha256 with the live manifest,
re-chunks and embeds only new or changed articles (vectors of unchanged ones are reused;
the embedding cache makes renames free), drops vectors of changed and deleted ones, and
saves a new generation through the store. A change of embedding model or chunking forces a
full rebuild, and the report says why. Copying new articles into the corpus is
`rag.corpus_files`; loading single files is left to `rag.documents`; the on-disk format to
`rag.store`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunking import Chunk, chunk_text, embedding_text
from rag.config import Settings
from rag.documents import SUPPORTED_SUFFIXES, Article, content_hash, load_article
from rag.embedding import Embedder
from rag.errors import DocumentError, IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.store import IndexData, check_compatible
from rag.stores import Store, open_store

log = logging.getLogger(__name__)

StageProgress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Failure:
    path: str
    reason: str


@dataclass
class IndexReport:
    """What one `pmrag index` run did; `--json` prints exactly these fields."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    embedded_chunks: int = 0
    full_rebuild_reason: str = ""
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added, "changed": self.changed, "removed": self.removed,
            "failed": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "documents": self.documents, "chunks": self.chunks,
            "seconds": round(self.seconds, 3), "embedded_chunks": self.embedded_chunks,
            "full_rebuild_reason": self.full_rebuild_reason, "dry_run": self.dry_run,
        }


def scan_corpus(corpus: Path) -> tuple[dict[str, Path], list[Failure]]:
    """Candidate article files by doc id (path relative to the corpus), and refusals."""
    if not corpus.is_dir():
        raise IndexMissingError(f"corpus folder {corpus}/ does not exist; create it and add articles")
    root = corpus.resolve()
    found: dict[str, Path] = {}
    failed: list[Failure] = []
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) or path.is_dir():
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                failed.append(Failure(rel, "symlink points outside the corpus folder; copy the file in instead"))
                continue
            if not target.exists():
                failed.append(Failure(rel, "broken symlink"))
                continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            failed.append(Failure(rel, f"unsupported file type {path.suffix or '(none)'};"
                                       f" use one of {', '.join(SUPPORTED_SUFFIXES)}"))
            continue
        found[rel] = path
    return found, failed


def update_index(
    settings: Settings,
    embedder: Embedder,
    store: Store | None = None,
    *,
    dry_run: bool = False,
    full: bool = False,
    progress: StageProgress | None = None,
    wait_for_lock: bool = False,
) -> IndexReport:
    """Bring the index in line with the corpus folder; see the module docstring."""
    store = store or open_store(settings)
    t0 = time.perf_counter()
    with store.lock(wait=wait_for_lock):
        report = IndexReport(dry_run=dry_run)
        files, report.failed = scan_corpus(settings.corpus_dir)
        signature = _signature(settings, embedder)
        old = None if full else _previous(store, signature, report)
        old_docs = old.articles if old else {}

        articles: dict[str, Article] = {}
        seen_hashes: dict[str, str] = {}
        # Articles already indexed go first, so a new duplicate never displaces them.
        for doc_id in sorted(files, key=lambda d: (d not in old_docs, d)):
            path = files[doc_id]
            try:
                digest = content_hash(path.read_bytes()) if path.stat().st_size else ""
                prior = old_docs.get(doc_id)
                if prior is not None and prior.content_hash == digest:
                    article = prior
                else:
                    article = load_article(path, doc_id, max_mb=settings.max_file_mb,
                                           max_pages=settings.max_pdf_pages)
            except DocumentError as exc:
                report.failed.append(Failure(doc_id, str(exc)))
                continue
            except OSError as exc:
                report.failed.append(Failure(doc_id, f"cannot read file: {exc.strerror}"))
                continue
            if article.content_hash in seen_hashes:
                report.failed.append(Failure(doc_id, f"same content as {seen_hashes[article.content_hash]}"
                                                     " (indexed once); delete one of the copies"))
                continue
            seen_hashes[article.content_hash] = doc_id
            articles[doc_id] = article
            if doc_id not in old_docs:
                report.added.append(doc_id)
            elif old_docs[doc_id].content_hash != article.content_hash:
                report.changed.append(doc_id)
        report.removed = sorted(set(old_docs) - set(articles))
        report.documents = len(articles)

        if dry_run:
            report.chunks = -1
            report.seconds = time.perf_counter() - t0
            return report

        reuse = set(articles) - set(report.added) - set(report.changed) if old else set()
        chunks, vectors, embedded = _chunks_and_vectors(articles, reuse, old, embedder, settings, progress)
        report.chunks, report.embedded_chunks = len(chunks), embedded
        if old is None or report.added or report.changed or report.removed:
            manifest = _manifest(signature, articles, chunks)
            store.save(IndexData(manifest, articles, chunks, vectors))
        report.seconds = time.perf_counter() - t0
        return report


def _signature(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    return dict(settings.chunking_signature(), dim=embedder.dim)


def _previous(store: Store, signature: dict[str, Any], report: IndexReport) -> IndexData | None:
    """The live generation if it can be reused; otherwise None and the reason in the report."""
    if not store.exists():
        return None
    try:
        manifest = store.read_manifest()
        check_compatible(manifest, signature, store.root)
        return store.load()
    except IndexMismatchError as exc:
        report.full_rebuild_reason = str(exc).split(";")[0]
    except IndexCorruptError as exc:
        report.full_rebuild_reason = f"previous index unreadable: {exc}"
    log.warning("full rebuild: %s", report.full_rebuild_reason)
    return None


def _chunks_and_vectors(
    articles: dict[str, Article], reuse: set[str], old: IndexData | None, embedder: Embedder,
    settings: Settings, progress: StageProgress | None,
) -> tuple[list[Chunk], np.ndarray, int]:
    kept: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    if old is not None:
        for row, chunk in enumerate(old.chunks):
            if chunk.doc_id in reuse:
                kept.setdefault(chunk.doc_id, []).append((chunk, old.vectors[row]))
    fresh: list[Chunk] = []
    fresh_texts: list[str] = []
    todo = [d for d in articles if d not in reuse]
    for i, doc_id in enumerate(todo):
        art = articles[doc_id]
        for chunk in chunk_text(doc_id, art.text, embedder.count_tokens,
                                chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap):
            fresh.append(chunk)
            fresh_texts.append(embedding_text(art.title, chunk))
        if progress:
            progress("chunk", i + 1, len(todo))
    fresh_vecs = embedder.embed(fresh_texts, progress=(lambda d, t: progress("embed", d, t)) if progress else None)
    by_doc: dict[str, list[tuple[Chunk, np.ndarray]]] = dict(kept)
    for chunk, vec in zip(fresh, fresh_vecs, strict=False):
        by_doc.setdefault(chunk.doc_id, []).append((chunk, vec))
    chunks: list[Chunk] = []
    rows: list[np.ndarray] = []
    for doc_id in sorted(by_doc):  # stable order: the same corpus gives the same index
        for chunk, vec in by_doc[doc_id]:
            chunks.append(chunk)
            rows.append(vec)
    vectors = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, embedder.dim), np.float32)
    return chunks, vectors, len(fresh)


def _manifest(signature: dict[str, Any], articles: dict[str, Article], chunks: list[Chunk]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for c in chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    return dict(
        signature,
        index_type="faiss.IndexFlatIP",
        package_version=_version("pm-learning-assistant"),
        faiss_version=_version("faiss-cpu"),
        sentence_transformers_version=_version("sentence-transformers"),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        documents={d: {"content_hash": a.content_hash, "title": a.title, "chunks": counts.get(d, 0)}
                   for d, a in sorted(articles.items())},
        chunks=len(chunks),
    )


def _version(dist: str) -> str:
    try:
        return version(dist)
    except Exception:
        return "unknown"


def index_is_current(settings: Settings, store: Store | None = None) -> bool:
    """True when the live index matches the corpus and settings (no model needs loading)."""
    store = store or open_store(settings)
    if not store.exists():
        return False
    try:
        manifest = store.read_manifest()
        files, _ = scan_corpus(settings.corpus_dir)
    except (IndexCorruptError, IndexMissingError):
        return False
    if any(manifest.get(k) != v for k, v in settings.chunking_signature().items()):
        return False
    saved = {d: m["content_hash"] for d, m in manifest.get("documents", {}).items()}
    if set(saved) - set(files):
        return False
    for doc_id, path in files.items():
        if doc_id not in saved:
            # A file that failed before fails again; only new readable files matter.
            return False
        try:
            if content_hash(path.read_bytes()) != saved[doc_id]:
                return False
        except OSError:
            return False
    return True
