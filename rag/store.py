"""The saved index on disk: crash-safe generations of FAISS + JSON-lines + a manifest.

Layout of the index folder::

    CURRENT                 name of the live generation (replaced atomically)
    generations/<name>/     manifest.json, articles.jsonl, chunks.jsonl, vectors.faiss
    .lock                   held by the one process allowed to write

A save writes a complete new generation beside the live one, fsyncs it, then swaps
`CURRENT` with `os.replace`; the previous generation is kept, older ones are pruned. A
`kill -9` at any moment therefore leaves either the old or the new generation live, never a
mix. Loading checks the manifest against the running setup and refuses a mismatch with the
reason. `vectors.faiss` is an exact flat index, or HNSW from a size on (`AnnConfig`, set by
`RAG_ANN_INDEX`); both keep the raw vectors, which load reads back. No pickle anywhere
(FAISS's own format and JSON): a user may load an index someone else built. Deciding what to
re-embed is left to `rag.indexing`; searching is left to `rag.retrieval`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.chunking import Chunk
from rag.documents import Article
from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEEP_GENERATIONS = 2


@dataclass
class IndexData:
    """Everything a generation holds, in memory. Row i of `vectors` belongs to `chunks[i]`."""

    manifest: dict[str, Any]
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: Any = field(default=None, repr=False)
    generation: str = ""

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Inner-product (cosine) search: [(chunk row, score)], best first."""
        if self.faiss_index is None or self.faiss_index.ntotal == 0:
            return []
        scores, rows = self.faiss_index.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=False) if r >= 0]


@dataclass(frozen=True)
class AnnConfig:
    """Which FAISS index `build_faiss` makes. Flat is exact and needs no build, but a query
    reads every vector (~0.5 ms per 1k vectors on 2 cores); HNSW is a graph that answers in
    milliseconds at 1M vectors with recall@10 >= 0.95 (docs/BENCHMARKS.md) and costs build
    time and ~2*m*4 bytes per vector. "auto" picks HNSW from `threshold` vectors on."""

    kind: str = "auto"  # auto | flat | hnsw
    threshold: int = 100_000
    hnsw_m: int = 32
    ef_construction: int = 40
    ef_search: int = 256

    def __post_init__(self) -> None:
        if self.kind not in ("auto", "flat", "hnsw"):
            raise ValueError(f"ann index must be auto, flat or hnsw, not {self.kind!r} (RAG_ANN_INDEX)")

    @classmethod
    def from_settings(cls, settings: Any) -> AnnConfig:
        return cls(settings.ann_index, settings.ann_threshold, settings.hnsw_m,
                   settings.hnsw_ef_construction, settings.hnsw_ef_search)

    def kind_for(self, n: int) -> str:
        """"flat" or "hnsw" for an index of `n` vectors."""
        if self.kind == "auto":
            return "hnsw" if n >= self.threshold else "flat"
        return self.kind


def index_kind(index: Any) -> str:
    """"hnsw" or "flat" for a FAISS index built (or read back) by this module."""
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def build_faiss(vectors: np.ndarray, ann: AnnConfig | None = None) -> Any:
    """An inner-product index over `vectors` of the type `ann` asks for (default: auto)."""
    ann = ann or AnnConfig()
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 0
    if dim and ann.kind_for(len(vectors)) == "hnsw":
        # HNSWFlat keeps the raw vectors beside the graph, so reconstruct_n (used by
        # load) still returns them exactly and one file stays the single source of truth.
        index = faiss.IndexHNSWFlat(dim, ann.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ann.ef_construction
        index.hnsw.efSearch = ann.ef_search
    else:
        index = faiss.IndexFlatIP(dim or 1)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class FaissStore:
    """Reads and writes generations in one index folder."""

    def __init__(self, root: Path, ann: AnnConfig | None = None):
        self.root = Path(root)
        # None: write auto-chosen indexes and load whatever type was saved; a config given
        # by settings also makes load rebuild an index of the other type from its vectors.
        self.ann = ann
        self.generations = self.root / "generations"

    # --- reading ----------------------------------------------------------------------
    def current_generation(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def exists(self) -> bool:
        gen = self.current_generation()
        return gen is not None and (self.generations / gen / "manifest.json").exists()

    def read_manifest(self, gen: str | None = None) -> dict[str, Any]:
        gen = gen or self.current_generation()
        if gen is None:
            raise IndexMissingError(
                f"no index in {self.root}/: build one with `pmrag index` (or `make run`)"
            )
        try:
            return json.loads((self.generations / gen / "manifest.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexCorruptError(
                f"index manifest in {self.root}/ is unreadable ({exc}); rebuild with `pmrag index`"
            ) from exc

    def load(self, expected: dict[str, Any] | None = None) -> IndexData:
        """Load the live generation; `expected` is the chunking signature it must match.

        A writer may swap in a new generation (and prune an old one) while we read; then the
        read is simply retried on the new live generation."""
        for _ in range(4):
            gen = self.current_generation()
            try:
                return self._load_once(gen, expected)
            except IndexCorruptError:
                if self.current_generation() == gen:
                    raise
        return self._load_once(self.current_generation(), expected)

    def _load_once(self, gen: str | None, expected: dict[str, Any] | None) -> IndexData:
        manifest = self.read_manifest(gen)
        if expected is not None:
            check_compatible(manifest, expected, self.root)
        gen = gen or ""
        folder = self.generations / gen
        try:
            articles = {}
            for row in _read_jsonl(folder / "articles.jsonl"):
                row["page_starts"] = tuple(tuple(p) for p in row.get("page_starts", ()))
                articles[row["doc_id"]] = Article(**row)
            chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
            index = faiss.read_index(str(folder / "vectors.faiss"))
        except (OSError, KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise IndexCorruptError(
                f"index generation {gen} in {self.root}/ is damaged ({exc}); rebuild with"
                " `pmrag index`"
            ) from exc
        if index.ntotal != len(chunks):
            raise IndexCorruptError(
                f"index generation {gen} has {index.ntotal} vectors for {len(chunks)} chunks;"
                " rebuild with `pmrag index`"
            )
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, manifest["dim"]), np.float32)
        if self.ann is not None:
            index = self._as_configured(index, vectors)
        return IndexData(manifest, articles, chunks, vectors, index, gen)

    def _as_configured(self, index: Any, vectors: np.ndarray) -> Any:
        """The loaded index as the settings want it: same type -> only the search breadth
        (not stored state worth a rebuild) is applied; other type -> rebuilt in memory from
        the saved vectors with `build_faiss`, exactly as the next save would write it."""
        assert self.ann is not None
        if index_kind(index) == self.ann.kind_for(index.ntotal):
            if isinstance(index, faiss.IndexHNSW):
                index.hnsw.efSearch = self.ann.ef_search
            return index
        log.info("index has a %s index, settings ask for %s; rebuilding it from the saved vectors",
                 index_kind(index), self.ann.kind_for(index.ntotal))
        return build_faiss(vectors, self.ann)

    # --- writing ----------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """Exclusive writer lock; a second writer fails fast (or waits with `wait=True`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise IndexLockedError(
                    f"another `pmrag index` is updating {self.root}/ right now; wait for it to"
                    " finish and run again"
                ) from exc
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def save(self, data: IndexData) -> str:
        """Write `data` as a new generation and make it live atomically; returns its name."""
        self.generations.mkdir(parents=True, exist_ok=True)
        now = time.time_ns()  # sortable names: pruning keeps the newest by name
        name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now % 10**9:09d}-{uuid.uuid4().hex[:4]}"
        tmp = self.generations / f".tmp-{name}"
        tmp.mkdir()
        _write_jsonl(tmp / "articles.jsonl", (asdict(a) for a in data.articles.values()))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in data.chunks))
        index = build_faiss(data.vectors, self.ann)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        _fsync_path(tmp / "vectors.faiss")
        manifest = dict(data.manifest, generation=name, format=FORMAT_VERSION,
                        index_type=f"faiss.{type(index).__name__}")
        _write_text(tmp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        _fsync_path(tmp)
        final = self.generations / name
        os.rename(tmp, final)
        _fsync_path(self.generations)
        _write_text(self.root / "CURRENT.tmp", name + "\n")
        os.replace(self.root / "CURRENT.tmp", self.root / "CURRENT")
        _fsync_path(self.root)
        self._prune(keep=name)
        return name

    def _prune(self, keep: str) -> None:
        """Keep the live generation and the one before it; drop older ones and leftovers."""
        gens = sorted(p for p in self.generations.iterdir() if not p.name.startswith("."))
        previous = [p for p in gens if p.name != keep][-(KEEP_GENERATIONS - 1) :]
        for p in self.generations.iterdir():
            if p.name == keep or p in previous:
                continue
            shutil.rmtree(p, ignore_errors=True)


def check_compatible(manifest: dict[str, Any], expected: dict[str, Any], root: Path) -> None:
    """Raise IndexMismatchError naming every setting that differs from the saved index."""
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index in {root}/ has format {manifest.get('format')}, this version reads"
            f" {FORMAT_VERSION}; rebuild with `pmrag index`"
        )
    diffs = [
        f"{k}: index has {manifest.get(k)!r}, settings say {v!r}"
        for k, v in expected.items()
        if manifest.get(k) != v
    ]
    if diffs:
        raise IndexMismatchError(
            f"index in {root}/ was built with another setup ({'; '.join(diffs)});"
            " rebuild with `pmrag index` or change the settings back"
        )


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
