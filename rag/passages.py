"""Passages: the part of each retrieved chunk shown to the LLM and quoted by citations.

Each hit is cut to the window of sentences most similar to the question that fits
`passage_tokens` (`select_passages`; the default keeps a whole 128-token chunk,
docs/answers.md), and that window's exact character span in the article is what a citation
quotes. A window that ends in a colon runs on into the list it announces. Also here: the
sentence splitter every later step uses (`sentence_spans`), and the sentence a refusal
highlights in each nearest passage (`closest_sentences`). The prompt around the passages is
left to `rag.prompting`, and checking an answer against them to `rag.citations`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rag.documents import Article
from rag.embedding import Embedder
from rag.retrieval import Hit

log = logging.getLogger(__name__)

# Not after "e.g." or "Dr.": "(e.g. simple linear regression)" is one sentence, and split there
# the answer showed a citation marker inside the parentheses (dev q30).
_ABBREVIATION = "".join(rf"(?<!\b{re.escape(a)})" for a in ("e.g.", "E.g.", "i.e.", "I.e.", "vs.", "cf.", "Mr.",
                                                            "Ms.", "Dr.", "Mrs.", "St."))
_SENTENCE_END = re.compile(rf"(?<=[.!?…]){_ABBREVIATION}[\"”’)\]]*\s+|\n+")


@dataclass(frozen=True)
class Passage:
    """The part of a hit shown to the LLM and quoted in citations: text[start:end]."""

    n: int
    hit: Hit
    start: int  # offsets into the article text
    end: int
    text: str
    byline: str = ""  # the article's "by ..., published on ..." (`Article.byline`), if known
    author: str = ""  # the article's author(s) (`Article.author`), if known


def is_question(sentence: str) -> bool:
    """The sentence asks (ends with "?", also inside closing quotes or a bracket): a passage's
    question states nothing, so it neither supports a claim nor answers one."""
    return sentence.rstrip().rstrip("”\"’)").endswith("?")


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line in `text`, shifted by `offset`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        _add_span(text, pos, m.start() + len(m.group(0).rstrip()), spans)
        pos = m.end()
    _add_span(text, pos, len(text), spans)
    return [(s + offset, e + offset) for s, e in spans]


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= 2:
        spans.append((start, end))


def _sentence_scores(question_vec: np.ndarray, hits: list[Hit], article_texts: dict[str, str],
                     embedder: Embedder) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
    """Per hit: its sentences' (start, end) in the article and their cosine to the question."""
    per_hit = [sentence_spans(h.chunk.text, h.chunk.start) for h in hits]
    texts = [article_texts[h.doc_id][s:e] for h, spans in zip(hits, per_hit, strict=True) for s, e in spans]
    sims = embedder.embed(texts) @ question_vec if texts else np.zeros(0)
    out, cursor = [], 0
    for spans in per_hit:
        out.append((spans, sims[cursor : cursor + len(spans)]))
        cursor += len(spans)
    return out


# A refusal highlights a sentence to read, so a fragment is passed over when the passage has a
# sentence of at least this many words: off topic, the nearest "sentences" were a list number
# ("2.") and a byline ("– Flavia Bergstein").
_HIGHLIGHT_MIN_WORDS = 4


def closest_sentences(question_vec: np.ndarray, hits: list[Hit], article_texts: dict[str, str],
                      embedder: Embedder) -> list[tuple[int, int] | None]:
    """Per hit, the (start, end) of its sentence most similar to the question (None for a hit
    with no sentence): what a refusal highlights in each nearest passage. Fragments shorter
    than _HIGHLIGHT_MIN_WORDS words are skipped unless the passage has nothing longer."""
    out: list[tuple[int, int] | None] = []
    for hit, (spans, scores) in zip(hits, _sentence_scores(question_vec, hits, article_texts, embedder),
                                    strict=True):
        text = article_texts[hit.doc_id]
        full = [len(text[s:e].split()) >= _HIGHLIGHT_MIN_WORDS for s, e in spans]
        ranked = sorted(range(len(spans)), key=lambda i: (not full[i], -float(scores[i])))
        out.append(spans[ranked[0]] if spans else None)
    return out


def select_passages(
    question_vec: np.ndarray, hits: list[Hit], article_texts: dict[str, str], embedder: Embedder,
    *, k: int | None = None, max_tokens: int = 70, articles: Mapping[str, Article] | None = None,
    lead_tokens: int = 0,
) -> list[Passage]:
    """For each hit, the contiguous sentence window (≤ max_tokens) around its sentence most
    similar to the question. Windows stay inside the chunk, so quotes are exact, except that a
    window ending in a colon runs on into what it announces (`_continuation_end`). With
    `articles` (doc_id -> `Article`), each passage carries its article's byline and author
    (read for the hits' articles only). With `lead_tokens` above `max_tokens`, the first hit's
    window has that budget and may grow past its chunk into its section (`_around`).
    With `k`, `hits` are candidates in rank order and at most `k` passages are made: a window
    that passages already chosen show for the most part is skipped (`_shown_already`), and the
    next candidate takes its place."""
    k = len(hits) if k is None else k
    passages: list[Passage] = []
    lead = bool(hits) and lead_tokens > max_tokens
    # The first hit's sentences are scored once: in the text around its chunk when it leads.
    # Candidates past the first k are scored only when one of those is skipped.
    first = hits[:k]
    scored = ([_around(question_vec, first[0], article_texts[first[0].doc_id], embedder)] if lead else []) \
        + _sentence_scores(question_vec, first[1:] if lead else first, article_texts, embedder)
    for i, hit in enumerate(hits):
        if len(passages) >= k:
            break
        if i >= len(scored):
            scored += _sentence_scores(question_vec, [hit], article_texts, embedder)
        spans, scores = scored[i]
        doc_text = article_texts[hit.doc_id]
        if not spans:
            continue
        budget = lead_tokens if lead and i == 0 else max_tokens
        # The window starts at the chunk's best sentence, even when a sentence around it scores higher.
        inside = [j for j, (s, e) in enumerate(spans) if hit.chunk.start <= s and e <= hit.chunk.end]
        best = max(inside or range(len(spans)), key=lambda j: scores[j])
        lo = hi = best
        used = embedder.count_tokens(doc_text[spans[best][0] : spans[best][1]])
        # Grow the window towards the more similar neighbour while it fits the budget.
        while True:
            options = []
            if lo > 0:
                options.append((scores[lo - 1], lo - 1))
            if hi < len(spans) - 1:
                options.append((scores[hi + 1], hi + 1))
            if not options:
                break
            _, j = max(options)
            cost = embedder.count_tokens(doc_text[spans[j][0] : spans[j][1]])
            if used + cost > budget:
                break
            used += cost
            lo, hi = min(lo, j), max(hi, j)
        start, end = spans[lo][0], spans[hi][1]
        if doc_text[start:end].rstrip().endswith(":"):
            end = _continuation_end(doc_text, end, embedder, max_tokens)
        start, end = _signed(doc_text, start, end)
        if _shown_already(passages, hit.doc_id, start, end):
            log.info("passage %d repeats one already shown (%s, chars %d-%d); the next hit instead",
                     hit.rank, hit.doc_id, start, end)
            continue
        article = (articles or {}).get(hit.doc_id)
        passages.append(Passage(len(passages) + 1, hit, start, end, doc_text[start:end],
                                article.byline if article else "", article.author if article else ""))
    return passages


_HEADING_LINE = re.compile(r"^#{1,6} ", re.MULTILINE)


def _around(question_vec: np.ndarray, hit: Hit, doc_text: str,
            embedder: Embedder) -> tuple[list[tuple[int, int]], np.ndarray]:
    """`_sentence_scores` for the text around a hit: its chunk and a chunk's length on either
    side, not past the headings before and after the chunk (another section is another topic,
    and the passage is labelled with the chunk's heading)."""
    length = hit.chunk.end - hit.chunk.start
    lo, hi = max(0, hit.chunk.start - length), min(len(doc_text), hit.chunk.end + length)
    # The section's own heading line is left out too: the passage's label names it.
    before = [doc_text.find("\n", m.start()) for m in _HEADING_LINE.finditer(doc_text, lo, hit.chunk.start)]
    after = _HEADING_LINE.search(doc_text, hit.chunk.end, hi)
    lo = max([lo, *(b for b in before if b >= 0)])
    hi = after.start() if after else hi
    spans = sentence_spans(doc_text[lo:hi], lo)
    sims = embedder.embed([doc_text[s:e] for s, e in spans]) @ question_vec if spans else np.zeros(0)
    return spans, sims


def _shown_already(passages: list[Passage], doc_id: str, start: int, end: int) -> bool:
    """More than half of `doc_id`[start:end] is in the passages already chosen. A window ending
    in a colon runs on into the list it announces, and the list's own chunk was often the next
    hit: blind6 h08's 4 passages showed the technical PM's first learning step twice and never
    his third ("look for excuses to repeat it"). Rare: of the 189 questions in eval/, it skips a
    passage for dev q42 and blind6 h08 (stop 49)."""
    shown = sum(max(0, min(end, p.end) - max(start, p.start)) for p in passages if p.hit.doc_id == doc_id)
    return 2 * shown > end - start


# A reply in a newsletter or a comment thread is signed on its own line under it: "– Gerard Kolan".
# En or em dash only: "- Work Together" may be a bullet.
_SIGNATURE = r"[–—][ \t]+[A-Z][\w'’.-]*(?:[ \t]+[A-Z][\w'’.-]*){1,3}[ \t]*$"
_SIGNATURE_FIRST = re.compile(rf"\s*{_SIGNATURE}\s*", re.MULTILINE)
_SIGNATURE_NEXT = re.compile(rf"[ \t]*\n\s*{_SIGNATURE}", re.MULTILINE)


def _signed(doc_text: str, start: int, end: int) -> tuple[int, int]:
    """The window `doc_text[start:end]` with its replies' signatures right: a signature that
    opens it belongs to the reply before it and is left out, and one on the line right after it
    names who wrote its last reply and is taken in. The newsletter's replies are signed below,
    so a chunk often opens with the previous reply's signer and ends before its own; shown
    "– Dhiraj Mehta" above Gerard Kolan's reply, the model answered "Dhiraj Mehta" to who said
    it (blind6 h05). Offsets stay exact: only whole lines move."""
    first = _SIGNATURE_FIRST.match(doc_text, start, end)
    if first and first.end() < end:
        start = first.end()
    after = _SIGNATURE_NEXT.match(doc_text, end)
    if after:
        end = after.end()
    return start, end


# A line that opens a list item: "• I can ask it to …", "- Listen.", "2. explain it to …", "#1: What …".
# rag.citations strips the same marks (and reply labels) off a quoted sentence.
LIST_MARK = r"(?:[•◦▪*–-]|\d{1,2}[.)]|#\d{1,2}:)\s"
_LIST_ITEM = re.compile(LIST_MARK)
# How far ahead a run-on reads, in characters per token of budget: English runs ~4-5.
_CHARS_PER_TOKEN = 8


def _continuation_end(doc_text: str, end: int, embedder: Embedder, max_tokens: int) -> int:
    """Where a window ending in a colon ("It helps me in two main areas:") should end: after
    what the colon announces, within another `max_tokens`. The chunker often cuts right after
    such a line, and shown the announcement without its list the small model invented one:
    "Cursor helps the technical PM guy understand code and explain steps in plain English" for
    what he uses Cursor for (its two uses are the next chunk's bullets). Taken: the next line,
    the sentences that continue it, and further lines while they open list items; not the prose
    after the list, nor past the budget."""
    ahead = end + _CHARS_PER_TOKEN * max_tokens
    spans = sentence_spans(doc_text[end:ahead], end)
    if ahead < len(doc_text):
        spans = spans[:-1]  # the last one may be cut off by the read-ahead
    new_end, used = end, 0
    for s, e in spans:
        new_line = "\n" in doc_text[new_end:s]
        if new_line and new_end > end and not _LIST_ITEM.match(doc_text[s:e]):
            break  # the prose after the list
        used += embedder.count_tokens(doc_text[s:e])
        if used > max_tokens:
            break
        new_end = e
    return new_end
