"""Read a BEIR-format benchmark folder and turn it into the project's own types.

A BEIR folder holds `corpus.jsonl` (`{"_id", "title", "text"}` per line), `queries.jsonl`
(`{"_id", "text"}`) and `qrels/<split>.tsv` (header `query-id corpus-id score`). Each corpus
document becomes an `Article` (doc_id = `_id`), so the evaluation index is chunked, embedded
and stored by exactly the code that indexes the PM articles. Scoring and running the
evaluation are left to `rag.evaluation`; nothing here loads a model.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.documents import Article, content_hash
from rag.errors import DatasetError


@dataclass(frozen=True)
class BeirDataset:
    """One split of a BEIR folder: documents, the judged queries, and their judgements."""

    root: Path
    split: str
    articles: dict[str, Article]
    queries: dict[str, str]  # only queries with at least one positive judgement
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}
    corpus_hash: str  # sha256 of corpus.jsonl: keys the cached evaluation index


def load_beir(root: Path, split: str = "test") -> BeirDataset:
    """Load `root` (a BEIR folder) for `split`; raise DatasetError saying what is missing."""
    root = Path(root)
    corpus_path, queries_path = root / "corpus.jsonl", root / "queries.jsonl"
    qrels_path = root / "qrels" / f"{split}.tsv"
    for path in (corpus_path, queries_path):
        if not path.is_file():
            raise DatasetError(f"{path} not found; --dataset must be a BEIR folder with corpus.jsonl,"
                               " queries.jsonl and qrels/<split>.tsv")
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
        raise DatasetError(f"{qrels_path} not found; pick a split that exists with --split"
                           f" (found: {', '.join(have) or 'none'})")
    articles: dict[str, Article] = {}
    digest = hashlib.sha256()
    for row in _jsonl(corpus_path, digest):
        doc_id = str(row.get("_id", ""))
        title = str(row.get("title") or "").strip()
        text = str(row.get("text") or "").strip()
        if not doc_id or not (title or text):
            continue  # an empty document cannot be retrieved; BEIR corpora have a few
        body = text or title
        articles[doc_id] = Article(doc_id, title or doc_id, body, content_hash(body.encode("utf-8")))
    qrels = read_qrels(qrels_path)
    all_queries = {str(r["_id"]): str(r.get("text", "")) for r in _jsonl(queries_path)}
    queries = {q: all_queries[q] for q in qrels if q in all_queries and any(g > 0 for g in qrels[q].values())}
    if not queries:
        raise DatasetError(f"no query in {queries_path} has a positive judgement in {qrels_path};"
                           " check that the split matches the queries file")
    return BeirDataset(root, split, articles, queries, {q: qrels[q] for q in queries}, digest.hexdigest())


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """`query-id corpus-id score` rows (tab separated, header optional) as nested dicts."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter="\t")):
            if not row or (i == 0 and row[0].strip().lower() in ("query-id", "query_id", "qid")):
                continue
            if len(row) < 3:
                raise DatasetError(f"{path} line {i + 1}: expected query-id, corpus-id, score"
                                   " separated by tabs")
            try:
                grade = int(float(row[2]))
            except ValueError as exc:
                raise DatasetError(f"{path} line {i + 1}: score {row[2]!r} is not a number") from exc
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = grade
    return qrels


def _jsonl(path: Path, digest: Any = None) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if digest is not None:
                digest.update(line)
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path} line {n} is not valid JSON ({exc.msg}); fix or remove it") from exc
