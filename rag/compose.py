"""Turn the model's reply into the `Answer` a user sees, or into a refusal.

An answer keeps only what the verifier (`rag.citations`) checked: markers re-pointed or
dropped, citations renumbered in order of first use, each with its exact quote. When
nothing checks out, or the model said NOT COVERED, the user gets a refusal that lists the
nearest passages, each with its sentence closest to the question. Retrieval, prompting and
generation, and when to refuse without the LLM, are the assistant's (`rag.assistant`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.answer import Answer, Citation, SentenceCheck, Timings
from rag.citations import CheckedSentence, Verification, VerifyConfig, render, verify
from rag.claims import quantities
from rag.embedding import Embedder
from rag.key_quote import KeyQuote, key_quote
from rag.markers import name_cited_articles
from rag.passages import Passage, closest_sentences
from rag.prompting import NOT_COVERED
from rag.retrieval import Hit
from rag.store import IndexData

REFUSAL_TEXT = (
    "The articles in this collection don't cover that question. The closest passages are"
    " listed below."
)
# A refusal after the LLM read close passages: it said NOT COVERED twice, or nothing it wrote
# could be checked against them. "Don't cover" would then often be false: for dev q28, q31 and
# q41 the answer is the highlighted sentence of a nearest passage ("You don't actually manage
# anyone, unless you are the lead/head/director PM."), which the 1.5B model did not use.
UNANSWERED_TEXT = (
    "I couldn't find a clear answer to that in the articles. The closest passages are listed"
    " below, each with its sentence nearest to your question."
)
# The reader stopped the answer before a sentence of it was finished, or before one checked out.
STOPPED_TEXT = (
    "Stopped before the answer had a sentence that could be checked against the articles."
    " The closest passages are listed below."
)

# A question whose answer is a number: "What's the ideal ratio of data scientists to engineers?",
# "How many hours a week …?", "What's the typical salary …?". Not "how often" ("constantly",
# "weekly") nor "how much" ("How much does the relationship with the DS team matter?"; "It's
# free" answers what a course costs), which words can answer.
_ASKS_FOR_A_NUMBER = re.compile(r"\bhow many\b|\bratio\b|\bpercent|\bsalar(?:y|ies)\b", re.IGNORECASE)


def is_not_covered(raw: str) -> bool:
    """The model's reply is its refusal (NOT COVERED), not an answer that mentions it."""
    return NOT_COVERED in raw.upper() and len(raw) < 80


@dataclass(frozen=True)
class AnswerComposer:
    """Builds answers and refusals; `corpus_dir` names a local article's source file."""

    embedder: Embedder
    corpus_dir: Path
    verify_config: VerifyConfig
    # A yes/no question's answer ends with the passage sentence most like the question when it
    # is at least this close and the answer leaves it out (rag.key_quote); 0 turns that off.
    # The default is `Settings.key_quote_min_similarity`'s, so direct users get what the CLI does.
    key_quote_min: float = 0.5

    def answer(self, question: str, standalone: str, qvec: np.ndarray, raw: str, passages: list[Passage],
               hits: list[Hit], data: IndexData, timings: Timings, *, retried: bool = False,
               compared: frozenset[str] = frozenset()) -> Answer:
        """The verified answer to `raw`, or a refusal listing `hits` when nothing checks out.
        `retried`: `raw` is the model's second try after it said NOT COVERED, so each claim
        needs the higher `retry_min_support`, and more than half of them must check out.
        Pushed past its own refusal (and barred from writing it) the small model sometimes
        invents the answer and pads it with a true sentence from a passage: "The passages
        suggest that companies should price AI-powered features based on their value to
        customers" (unsupported), then the ethics passage's "transparency and accountability"
        (supported), for a question the articles do not cover (dev q23). `compared`: the
        articles a comparison names; an answer that cites fewer than two of them shows one
        side only ("The step-by-step guide is more comprehensive [1]", cited to the guide
        alone) and is a refusal listing passages of both."""
        if is_not_covered(raw):
            return self.refusal(question, standalone, qvec, hits, data, timings, llm_called=True, raw=raw)
        texts = {d: a.text for d, a in data.articles.items()}
        # "[1] and [3]" answering "Which article should I read ...?" becomes the articles' titles.
        config = self.verify_config
        if retried:
            config = replace(config, min_support=max(config.min_support, config.retry_min_support))
        checked = verify(name_cited_articles(raw, passages, standalone), passages, texts, self.embedder,
                         config, question=standalone, question_vector=qvec)
        # An answer that is only a verdict ("Yes, <the question restated>") checks out nowhere
        # and was refused, though the article's sentence nearest to the question often answers
        # it (blind b02, b11, b14; docs/answers.md, stop 37): the quote makes it an answer.
        verdict_only = bool(checked.sentences) and all(s.verdict for s in checked.sentences)
        if retried:
            checked.sentences = _without_forced_yes(checked.sentences)
        quote = key_quote(standalone, qvec, passages, texts, self.embedder, [s.text for s in checked.sentences],
                          min_similarity=self.key_quote_min)
        if quote and verdict_only:
            _add_quote(checked, quote)
        if not checked.any_supported or (retried and not checked.mostly_supported):
            return self.refusal(question, standalone, qvec, hits, data, timings, llm_called=True, raw=raw)
        by_n = {p.n: p for p in passages}
        if compared and len(compared & {by_n[n].hit.doc_id for s in checked.sentences for n in s.passages}) < 2:
            return self.refusal(question, standalone, qvec, hits, data, timings, llm_called=True, raw=raw)
        if _no_number_for(standalone, checked):
            return self.refusal(question, standalone, qvec, hits, data, timings, llm_called=True, raw=raw)
        if quote and not verdict_only:
            _add_quote(checked, quote)
        renumber: dict[int, int] = {}
        for sentence in checked.sentences:
            for n in sentence.passages:
                renumber.setdefault(n, len(renumber) + 1)
        citations = [self.citation(new_n, by_n[old_n], data, quote=checked.quotes.get(old_n))
                     for old_n, new_n in renumber.items()]
        sentences = [SentenceCheck(s.text, [renumber[n] for n in s.passages], s.supported,
                                   round(s.support, 3), s.key_quote) for s in checked.sentences]
        return Answer(question, render(checked, renumber), False, citations, sentences,
                      standalone_question=standalone, raw_answer=raw, timings=timings, llm_called=True,
                      index_generation=data.generation)

    def refusal(self, question: str, standalone: str, qvec: np.ndarray, hits: list[Hit], data: IndexData,
                timings: Timings, *, llm_called: bool, raw: str = "") -> Answer:
        """A refusal listing the 3 nearest of `hits`. Each comes with its sentence closest to
        the question as the quote, so a PM sees at a glance what the articles say nearest to
        what was asked."""
        # Listed by the similarity each shows ("score"), not by the fused retrieval rank, which
        # mixes in word matches: a list read as 0.30, 0.34, 0.27 looks broken to a reader.
        near = sorted(hits[:3], key=lambda h: -h.dense)
        texts = {d: a.text for d, a in data.articles.items()}
        closest = closest_sentences(qvec, near, texts, self.embedder)
        nearest = [self.citation(i + 1, Passage(i + 1, h, h.chunk.start, h.chunk.end, h.chunk.text), data,
                                 quote=closest[i])
                   for i, h in enumerate(near)]
        text = UNANSWERED_TEXT if llm_called else REFUSAL_TEXT
        return Answer(question, text, True, [], [], nearest, standalone, raw, timings, llm_called,
                      index_generation=data.generation)

    def citation(self, n: int, p: Passage, data: IndexData, quote: tuple[int, int] | None = None) -> Citation:
        """Citation [n] of passage `p`, quoting article[quote] (the whole passage by default)."""
        article = data.articles[p.hit.doc_id]
        text = article.text
        qs, qe = quote or (p.start, p.end)
        source = article.metadata.get("url") or str(self.corpus_dir / article.doc_id)
        return Citation(
            n=n, doc_id=article.doc_id, title=article.title, source=source,
            heading=p.hit.chunk.heading, start=p.start, end=p.end, text=text[p.start : p.end],
            score=round(p.hit.dense, 4), quote_start=qs, quote_end=qe, quote=text[qs:qe],
            page=article.page_at(p.start), byline=article.byline,
        )


def _no_number_for(question: str, checked: Verification) -> bool:
    """`question` asks for a number, the answer gives one that no passage supports, and no
    supported sentence states one the question did not ask with. Asked "What's the ideal ratio
    of data scientists to engineers on an ML product team?", which no article answers, the
    model wrote "… is 1:2." (flagged unsupported) and two general sentences about DS and
    engineering that a passage does support, so the answer stood (blind4 e20): the sentences
    that check out answer a question that was not asked. An answer with no number at all ("He
    recommends the Harvard course and the Codecademy path" for "How many courses …?") is judged
    as usual."""
    if not _ASKS_FOR_A_NUMBER.search(question):
        return False
    asked = {n for n, *_ in quantities(question)}

    def numbers(sentence: CheckedSentence) -> bool:
        return bool({n for n, *_ in quantities(sentence.text)} - asked)

    return (any(not s.supported and numbers(s) for s in checked.sentences)
            and not any(s.supported and numbers(s) for s in checked.sentences))


def _add_quote(checked: Verification, quote: KeyQuote) -> None:
    """End the answer with the key quote, cited and supported: the article's own words."""
    checked.sentences.append(CheckedSentence(f"“{quote.text}”", [quote.n], True, 1.0, key_quote=True))
    checked.quotes.setdefault(quote.n, (quote.start, quote.end))


_YES = re.compile(r"^yes\b", re.IGNORECASE)


def _without_forced_yes(sentences: list[CheckedSentence]) -> list[CheckedSentence]:
    """The retry's sentences without a leading "Yes" verdict. On the retry the model has just
    said NOT COVERED, is told the passages do answer and may not write the refusal's words;
    pushed so, it says "Yes" whatever the passages say (prompting.YES_NO_RETRY_QUESTION): in
    the stop-41 recordings of eight QA sets the retry opened with "Yes" on 14 questions, and
    on 10 of them the article says no ("Yes, the team's data scientists actually kept the
    data quality analysis he built", blind b11, above the article's "… thrown away my work").
    A "No" goes against that push and was right both times; a verdict in words ("… did not go
    the PhD route") is a claim the reader can weigh, so both stay, flagged as before. What is
    left is the answer's checked claims and the article's sentence nearest the question
    (rag.key_quote). Measured in docs/answers.md, stop 42."""
    kept: list[CheckedSentence] = []
    after_yes = False
    for s in sentences:
        if s.verdict and _YES.match(s.text):
            after_yes = True
            continue
        if after_yes and s.text[:1].islower():
            # "Yes," split off before its claim left "the passages say that …": it now opens.
            s = replace(s, text=s.text[0].upper() + s.text[1:])
        after_yes = False
        kept.append(s)
    return kept
