"""The QA file `pmrag eval answers` reads: its format, reading it, and where its gold evidence
sits in the indexed articles.

Each line is ``{"id", "question", "answer": str|null, "must_include": [str], "evidence":
[{"doc", "quote"}]}``; ``answer: null`` marks a question the articles do not answer. A
follow-up adds ``"history": [[question, answer], ...]``, the chat before it, and
``"standalone"``, the question written out in full. The file is often written by someone
else (a maintainer's held-out set), so reading is forgiving where the intent is plain (a
byte-order mark, a lone `must_include` string, an evidence `doc` given as a path, a quote
with its line breaks, curly quotes or elisions changed) and strict, naming the line, where
it is not. Scoring answers against it is `rag.answer_eval`.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from rag.errors import ConfigError
from rag.store import IndexData


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answer: str | None
    must_include: list[str]
    evidence: list[Evidence]
    history: tuple[tuple[str, str], ...] = ()  # the chat before a follow-up: (question, answer)
    standalone: str = ""  # a follow-up written out in full, for `history_mode="standalone"`

    @property
    def answerable(self) -> bool:
        return self.answer is not None


def read_qa(path: Path) -> list[QAItem]:
    items = []
    try:
        # utf-8-sig: a file saved by a Windows editor starts with a byte-order mark, which
        # json.loads would reject as line 1 not being a QA item.
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read QA file {path}: {exc.strerror}") from exc
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(QAItem(str(row["id"]), row["question"], row.get("answer"),
                                _phrases(row.get("must_include")),
                                [Evidence(e["doc"], e["quote"]) for e in row.get("evidence") or []],
                                tuple(_turn(t) for t in row.get("history") or []),
                                str(row.get("standalone") or "")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}:{no}: not a QA item ({exc}); see `pmrag eval answers --help`") from exc
    return items


def _phrases(value: Any) -> list[str]:
    """`must_include` as a list of phrases. A lone string is one phrase: list() of it would
    silently score the answer on its single characters."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must_include must be a list of strings")
    return list(value)


def _turn(turn: Any) -> tuple[str, str]:
    """One earlier exchange: [question, answer] or {"question", "answer"}."""
    if isinstance(turn, dict):
        return str(turn["question"]), str(turn["answer"])
    question, answer = turn
    return str(question), str(answer)


def gold_spans(item: QAItem, data: IndexData) -> list[tuple[str, int, int]]:
    """(doc_id, start, end) of each gold quote in the indexed article text."""
    spans = []
    for ev in item.evidence:
        doc = article_id(ev.doc, data)
        article = data.articles.get(doc)
        found = find_quote(article.text, ev.quote) if article else None
        spans.append((doc, *found) if found else (doc, -1, -1))  # not found: counts as not covered
    return spans


def article_id(doc: str, data: IndexData) -> str:
    """The indexed article an evidence `doc` names: its id in corpus/ or its original file
    name, also written as a path ("corpus/sprint-2-do-what-you-do.md") or without its
    extension ("sprint-2-do-what-you-do"), as a maintainer may. Unresolved, `doc` itself
    (its quotes then count as never cited, and the CLI says so)."""
    by_source = {src: d for d, a in data.articles.items() if (src := a.metadata.get("source_file"))}
    name = PurePath(doc.replace("\\", "/")).name
    if not name:
        return doc
    for key in (doc, name):
        if key in data.articles:
            return key
        if key in by_source:
            return by_source[key]
    stem = PurePath(name).stem
    same = {d for src, d in by_source.items() if PurePath(src).stem == stem}
    same |= {d for d in data.articles if PurePath(d).stem == stem}
    return same.pop() if len(same) == 1 else doc


# Characters a quote copied from another rendering of the article may spell differently.
_QUOTE_CHARS = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


# An ellipsis in a gold quote ("the relationship … is the only mechanism"), bracketed or not.
_ELLIPSIS = re.compile(r"\s*\[?(?:\.\.\.|…)\]?\s*")
_MAX_ELIDED = 1500  # characters an ellipsis may stand for: a quote stays within a passage or so


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """(start, end) of `quote` in `text`: exactly, or else ignoring case, runs of whitespace
    and curly quotes / dashes. A gold quote is often copied from the original file, whose
    line breaks and quote marks differ from the indexed text's (the seeds have one newline
    between paragraphs, corpus/ a blank line), and a quote that is not found silently counts
    as never cited. A quote that leaves words out with "..." or "…" is found part by part, in
    order, and spans from its first part to its last."""
    found = _find(text, quote, 0)
    if found or not _ELLIPSIS.search(quote):
        return found
    parts = [part for part in _ELLIPSIS.split(quote) if part.strip()]
    spans: list[tuple[int, int]] = []
    for part in parts:
        span = _find(text, part, spans[-1][1] if spans else 0)
        if span is None or (spans and span[0] - spans[-1][1] > _MAX_ELIDED):
            return None
        spans.append(span)
    return (spans[0][0], spans[-1][1]) if spans else None


def _find(text: str, quote: str, start: int) -> tuple[int, int] | None:
    """`quote` at or after `start` in `text`, exactly or loosely (see `find_quote`)."""
    pos = text.find(quote, start)
    if pos >= 0:
        return pos, pos + len(quote)
    norm_quote = " ".join(quote.translate(_QUOTE_CHARS).lower().split())
    if not norm_quote:
        return None
    chars: list[str] = []
    where: list[int] = []  # offset in `text` of each normalised character
    for i, original in enumerate(text):
        for ch in original.translate(_QUOTE_CHARS).lower():  # lower() may give 2 characters
            if ch.isspace():
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    where.append(i)
                continue
            chars.append(ch)
            where.append(i)
    pos = "".join(chars).find(norm_quote, bisect.bisect_left(where, start))
    if pos < 0:
        return None
    return where[pos], where[pos + len(norm_quote) - 1] + 1
