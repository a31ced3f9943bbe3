"""`pmrag eval answers`: score answers against a QA file with gold facts and evidence.

The file, reading it and locating its gold quotes are `rag.qa_file`. Reported: key-fact
recall (must_include phrases found in the answer, matched loosely; `key_fact_recall_stemmed`
also forgives inflections, "influencers" for "influencer"), citation precision (citations
whose passage overlaps a gold quote), evidence recall (gold quotes overlapped by some
citation), refusal rate on unanswerable items, false-refusal rate on answerable ones, and
latency. A follow-up is asked after its history as a chat would (the assistant rewrites it,
`rag.followup`); ``history_mode`` asks it without the history instead, or asks the
written-out question, to measure the rewrite against both. Running the assistant is left to
`rag.assistant`; retrieval metrics live in `rag.evaluation`.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import Stemmer

from rag.answer import Answer
from rag.errors import ConfigError
from rag.qa_file import QAItem, gold_spans
from rag.store import IndexData

_STEMMER = Stemmer.Stemmer("english")


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
