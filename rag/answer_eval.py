"""`pmrag eval answers`: score answers against a QA file with gold facts and evidence.

Each line of the QA file is ``{"id", "question", "answer": str|null, "must_include": [str],
"evidence": [{"doc", "quote"}]}``; ``answer: null`` marks a question the articles do not
answer. A follow-up item adds ``"history": [[question, answer], ...]``, the chat before it,
and ``"standalone"``, the question written out in full: the assistant must rewrite the
follow-up from the history as a chat would (`rag.followup`); ``history_mode`` asks it
without the history instead, or asks the written-out question, to measure the rewrite
against both. Reported: key-fact recall (must_include phrases found in the answer, matched
loosely; `key_fact_recall_stemmed` also forgives inflections, "influencers" for
"influencer"), citation precision (citations whose passage overlaps a gold quote), evidence
recall (gold quotes overlapped by some citation), refusal rate on unanswerable items,
false-refusal rate on answerable ones, and latency. Running the assistant is left to
`rag.assistant`; retrieval metrics live in `rag.evaluation`.
"""

from __future__ import annotations

import bisect
import json
import re
import statistics
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

import Stemmer

from rag.answer import Answer
from rag.errors import ConfigError
from rag.store import IndexData

_STEMMER = Stemmer.Stemmer("english")


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


@dataclass
class ItemResult:
    id: str
    answerable: bool
    refused: bool
    facts_found: int
    facts_total: int
    citations: int
    citations_on_evidence: int
    evidence_total: int
    evidence_covered: int
    total_ms: float
    first_token_ms: float
    answer: str
    facts_found_stemmed: int = 0
    asked: str = ""  # the question retrieval used: a follow-up's rewrite
    wait_ms: float = 0.0  # question to first answer text, a follow-up's rewrite included


@dataclass
class AnswerReport:
    items: list[ItemResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ans = [r for r in self.items if r.answerable]
        unans = [r for r in self.items if not r.answerable]
        facts = sum(r.facts_total for r in ans)
        # Citations on unanswerable items that were not refused point at no gold evidence,
        # so they count against precision too.
        cited = [r for r in self.items if not r.refused]
        cites = sum(r.citations for r in cited)
        evid = sum(r.evidence_total for r in ans)
        lat = sorted(r.total_ms for r in self.items)
        first = sorted(r.first_token_ms for r in self.items if r.first_token_ms > 0)
        wait = sorted(r.wait_ms for r in self.items if r.wait_ms > 0)
        return {
            "key_fact_recall": _ratio(sum(r.facts_found for r in ans), facts),
            "key_fact_recall_stemmed": _ratio(sum(r.facts_found_stemmed for r in ans), facts),
            "citation_precision": _ratio(sum(r.citations_on_evidence for r in cited), cites),
            "evidence_recall": _ratio(sum(r.evidence_covered for r in ans), evid),
            "refusal_rate_unanswerable": _ratio(sum(r.refused for r in unans), len(unans)),
            "false_refusal_rate": _ratio(sum(r.refused for r in ans), len(ans)),
            "latency_ms_p50": _pct(lat, 50), "latency_ms_p95": _pct(lat, 95),
            "first_token_ms_p50": _pct(first, 50), "first_token_ms_p95": _pct(first, 95),
            "wait_ms_p50": _pct(wait, 50), "wait_ms_p95": _pct(wait, 95),
            "items": len(self.items), "answerable": len(ans), "unanswerable": len(unans),
        }

    def to_dict(self) -> dict[str, Any]:
        return dict(self.summary(), per_item=[asdict(r) for r in self.items])


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


def normalise(text: str) -> str:
    """Loose matching: case, punctuation, hyphens/dashes and curly quotes don't matter."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": " ", "—": " ", "-": " "}))
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def fact_found(phrase: str, answer: str) -> bool:
    return f" {normalise(phrase)} " in f" {normalise(answer)} "


def fact_found_stemmed(phrase: str, answer: str) -> bool:
    """`fact_found` on Snowball stems: "asking questions" states "ask questions". Reported
    beside the strict figure, never instead of it, so both stay comparable."""
    def stems(text: str) -> str:
        return " ".join(_STEMMER.stemWords(normalise(text).split()))
    return f" {stems(phrase)} " in f" {stems(answer)} "


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


def score_item(item: QAItem, answer: Answer, data: IndexData) -> ItemResult:
    gold = gold_spans(item, data)

    def overlaps(doc: str, s: int, e: int, g: tuple[str, int, int]) -> bool:
        return doc == g[0] and g[1] >= 0 and s < g[2] and g[1] < e

    cites = [] if answer.refused else answer.citations
    on_evidence = sum(any(overlaps(c.doc_id, c.start, c.end, g) for g in gold) for c in cites)
    covered = sum(any(overlaps(c.doc_id, c.start, c.end, g) for c in cites) for g in gold)
    found = 0 if answer.refused else sum(fact_found(p, answer.text) for p in item.must_include)
    return ItemResult(item.id, item.answerable, answer.refused, found, len(item.must_include), len(cites),
                      on_evidence, len(gold), covered, answer.timings.total_ms,
                      answer.timings.first_token_ms, answer.text,
                      0 if answer.refused else sum(fact_found_stemmed(p, answer.text) for p in item.must_include),
                      answer.standalone_question or answer.question, answer.timings.wait_ms)


HistoryMode = Literal["chat", "none", "standalone"]


def run(items: list[QAItem], ask: Callable[..., Answer], data: Callable[[], IndexData],
        progress: Callable[[int, int], None] | None = None,
        history_mode: HistoryMode = "chat") -> AnswerReport:
    """Ask every item (`ask(question, history=...)`, as `Assistant.ask`) and score it. A
    follow-up is asked after its history ("chat"), alone ("none": no rewrite, the baseline),
    or written out in full ("standalone": what a perfect rewrite would retrieve with)."""
    report = AnswerReport()
    for i, item in enumerate(items):
        if history_mode == "standalone" and item.history:
            if not item.standalone:
                raise ConfigError(f"{item.id}: a follow-up needs 'standalone' for --history standalone")
            answer = ask(item.standalone)
        elif history_mode == "chat" and item.history:
            answer = ask(item.question, history=list(item.history))
        else:
            answer = ask(item.question)
        report.items.append(score_item(item, answer, data()))
        if progress:
            progress(i + 1, len(items))
    return report


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 1)
