"""How well each passage supports one sentence of an answer.

The verifier (`rag.citations`) checks every answer sentence against the passages, and each
check asks the same of them: the sentence's embedding similarity to each passage's best
sentence, blended with the lexical recall of the sentence's content words that are not the
question's, and zeroed for a passage that cannot support what the sentence claims (a quantity
it never states, a named thing or author it does not speak of, a question's word swapped into
its sentence; those claims are found by `rag.claims`). What this module precomputes once per
answer are the passages' features (their sentences, embedded once; their words, headings,
quantities and names) and the question's. Which passages a sentence then cites, the parts of a
sentence checked on their own (`rag.clauses`) and what is shown are left to the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.claims import (
    content_words,
    named_authors,
    names,
    names_in,
    plain_words,
    quantities,
    speaks_for,
    states,
    swaps_in_asked,
)
from rag.clauses import listed_items
from rag.embedding import Embedder
from rag.passages import Passage, is_question, sentence_spans

# The frame of "Which article should I read to learn about ...?": what is left is the topic a
from rag.prompting import asks_which_article

# passage must be about for its article to be the answer (stemmed).
_FRAME_WORDS = frozenset({"articl", "post", "piec", "guid", "newslett", "blog", "sourc", "read", "learn",
                          "talk", "cover", "discuss", "explain", "mention", "describ", "write", "find",
                          "say", "tell", "best", "good", "recommend", "look", "go"})
_TOPIC_SHARE = 0.75  # of the topic words, found in the passage (3 of 4)
# Abbreviations a topic word may be spelled as in a passage, and back (stemmed words).
_ALIASES = {"pm": {"product", "manag"}, "pms": {"product", "manag"}, "ds": {"data", "scienc"},
            "ml": {"machin", "learn"}, "ai": {"artifici", "intellig"}, "llm": {"languag", "model"},
            "llms": {"languag", "model"}, "nlp": {"natur", "languag", "process"}}


def _on_topic(topic: set[str], passage_words: set[str]) -> bool:
    """At least _TOPIC_SHARE of the topic words are in the passage, as written or abbreviated
    ("PM" for "product manager" and back)."""
    found = {w for w in topic if w in passage_words or (w in _ALIASES and _ALIASES[w] <= passage_words)}
    found |= {w for w in topic for short, long in _ALIASES.items() if w in long and short in passage_words}
    return len(found) >= _TOPIC_SHARE * len(topic)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class PassageSupport:
    """The passages of one answer, and the question's words, as the support score needs them."""

    passages: list[Passage]
    embedder: Embedder
    lexical_weight: float  # share of the blend given to lexical recall
    asked: set[str]  # the question's content words: no evidence, the model echoes them
    titles_answer: bool  # asked which article to read
    topic: set[str]  # what a passage must be about when its title is the answer
    psent: list[tuple[int, int, int]]  # (passage index, start, end) of every passage sentence
    ptexts: list[str]  # the text of each passage sentence
    pvecs: np.ndarray  # their embeddings
    asking: list[bool]  # a passage sentence that is a question
    pwords: list[set[str]]  # content words of each passage: title, byline, heading, statements
    bodies: list[set[str]]
    heads: list[set[str]]  # content words of each passage's title and heading
    pnumbers: list[set[tuple[str, str, str]]]
    asked_numbers: set[str]
    asked_names: set[str]
    author_names: set[str]
    pplain: list[set[str]]

    @classmethod
    def build(cls, passages: list[Passage], article_texts: dict[str, str], embedder: Embedder,
              question: str, lexical_weight: float) -> PassageSupport:
        """Each passage's features and the question's; the passage sentences are embedded here."""
        asked = content_words(question)
        # Asked which article to read, an article's title is the answer, not a copied heading.
        titles_answer = asks_which_article(question)
        topic = asked - _FRAME_WORDS if titles_answer else set()
        # Sentences of every passage, embedded once (cached by text).
        psent: list[tuple[int, int, int]] = []  # (passage index, start, end)
        for i, p in enumerate(passages):
            psent += [(i, s, e) for s, e in sentence_spans(p.text, p.start)]
        ptexts = [article_texts[passages[i].hit.doc_id][s:e] for i, s, e in psent]
        pvecs = embedder.embed(ptexts)
        # A passage's question states nothing: "Is it necessary for a non-technical PM to become as
        # technical as a data scientist?" (a reader's question in the newsletter) supported "Yes,
        # becoming an AI/ML PM requires a significant amount of technical knowledge" (dev q12).
        asking = [is_question(t) for t in ptexts]
        stated = [" ".join(t for (i, _, _), t, q in zip(psent, ptexts, asking, strict=True) if i == k and not q)
                  for k in range(len(passages))]
        # The byline supports "Yael Gavish wrote the guide [1]" but is not a heading: a sentence
        # naming only the author still claims something (who wrote it), so it is no heading copy.
        pwords = [content_words(f"{p.hit.title} {p.byline} {p.hit.chunk.heading} {stated[k]}")
                  for k, p in enumerate(passages)]
        bodies = [content_words(p.text) for p in passages]  # the text alone: a title word is no sibling
        heads = [content_words(f"{p.hit.title} {p.hit.chunk.heading}") for p in passages]
        pnumbers = [quantities(f"{p.hit.title} {p.byline} {p.hit.chunk.heading} {p.text}") for p in passages]
        asked_numbers = {n for n, *_ in quantities(question)}
        asked_names = names(question)
        author_names = names(" ".join(p.author for p in passages))
        pplain = [plain_words(f"{p.hit.title} {p.byline} {p.hit.chunk.heading} {p.text}") for p in passages]
        return cls(passages=passages, embedder=embedder, lexical_weight=lexical_weight, asked=asked,
                   titles_answer=titles_answer, topic=topic, psent=psent, ptexts=ptexts, pvecs=pvecs,
                   asking=asking, pwords=pwords, bodies=bodies, heads=heads, pnumbers=pnumbers,
                   asked_numbers=asked_numbers, asked_names=asked_names, author_names=author_names,
                   pplain=pplain)

    def support(self, text: str, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's blended support for `text` (`row`: its similarity to every passage
        sentence), and each passage's sentence most like it."""
        passages = self.passages
        own = content_words(text)
        words = own - self.asked
        scores = np.zeros(len(passages))
        best_sent = np.full(len(passages), -1)
        for j, (i, _, _) in enumerate(self.psent):
            if self.asking[j]:
                continue
            if row[j] > scores[i] or best_sent[i] < 0:
                scores[i] = max(scores[i], row[j])
                best_sent[i] = j
        lexical = np.array([len(words & pw) / len(words) if words else 0.0 for pw in self.pwords])
        blended = (1 - self.lexical_weight) * scores + self.lexical_weight * lexical
        # A quantity is the claim itself ("3 hours a week"): a passage that never states it
        # cannot support the sentence, however similar the rest of the wording is.
        claimed = {q for q in quantities(text) if q[0] not in self.asked_numbers}
        if claimed:
            blended = blended * np.array([states(pn, claimed) for pn in self.pnumbers], dtype=float)
        if self.topic and words and any(words <= h for h in self.heads):
            # "Which article talks about pricing AI features?" answered with a title and the
            # question's words: the title supports the sentence whatever the topic, so the
            # passage must be about it. Other words ("Stratechery and Lenny have excellent
            # articles ...", dev q07) are checked as usual.
            blended = blended * np.array([_on_topic(self.topic, pw) for pw in self.pwords], dtype=float)
        # A near copy of a passage's sentence with the question's word swapped in ("In finance,
        # AI has been employed to analyze medical data", dev q18) claims for the question what
        # the passage says of something else.
        blended = blended * np.array([best_sent[i] < 0 or not swaps_in_asked(
            text, self.ptexts[best_sent[i]], self.bodies[i], self.asked) for i in range(len(passages))],
            dtype=float)
        # A name the question asks about ("How many weeks does CS50 take?") is no evidence in
        # the lexical score, being the question's word, so "CS50 ... takes 18 months" passed on
        # a passage about another course that took 18 months (a follow-up, stop 28). What a
        # sentence says of a named thing, only a passage that names it can support.
        # Authors' names are left to the author rule below: "Gavish's advice focuses on ...,
        # while Hope's ..." (a comparison) names both, and no one passage names them both.
        subject = names(text) & self.asked_names - self.author_names
        if subject:
            blended = blended * np.array([names_in(subject, pw) for pw in self.pplain], dtype=float)
        # "Gavish says that ... [1]" cited to another author's article (fresh f11: the newsletter,
        # which has no byline) puts words in her mouth, however well the words match: a sentence
        # naming an author is supported only by her passages, or by passages that name her (an
        # article quoting her). An answer that names nobody is not held to the question's
        # author ("How does Hope's view compare with the others?" is answered from all
        # articles); its sources show their bylines.
        authors = named_authors(text, [p.author for p in passages])
        if authors:
            blended = blended * np.array([speaks_for(p, authors) for p in passages], dtype=float)
        return blended, best_sent

    def support_alone(self, part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`support` for a part of an answer sentence, embedded on its own: (its similarity to
        every passage sentence, each passage's support, each passage's sentence most like it)."""
        part_row = self.embedder.embed([part])[0] @ self.pvecs.T
        return (part_row, *self.support(part, part_row))

    def naming_sources(self, text: str, keep: list[int]) -> tuple[list[int], set[str]]:
        """`keep` (passage numbers from 1) with the passages added that name what `text` names
        and no kept passage does, and the names no passage has.

        "CS50: Introduction to Computer Science by Harvard and Data Scientist: NLP Specialist
        Career Path by CodeAcademy [1]" (the page, stop 45): [1] names CS50 only, and the
        sentence's likeness to it carried the whole sentence, so the second course looked
        cited. A name is the claim itself; the passage that names it is its source."""
        wanted = names(text) - self.asked_names - self.author_names
        missing = {n for n in wanted if not any(names_in({n}, self.pplain[k - 1]) for k in keep)}
        added: list[int] = []
        while missing:
            # The passage naming most of what is still missing first: "Data Scientist" alone
            # is in several passages, the course's full name in one.
            found = [({n for n in missing if names_in({n}, plain)}, i + 1) for i, plain in enumerate(self.pplain)
                     if i + 1 not in keep + added]
            best, n = max(found, key=lambda f: len(f[0]), default=(set(), 0))
            if not best:
                break
            added.append(n)
            missing -= best
        return keep + added, missing

    def unlisted_items(self, text: str) -> list[str]:
        """The items of a list `text` ends with (`rag.clauses.listed_items`) that no passage states.

        "ML projects fail because they lack clear objectives, lack proper data quality, lack
        collaboration between disciplines, and lack a clear understanding of the business
        impact [1]" (stop 48's exploratory questions): the passage speaks of collaboration
        between disciplines and of business impact, and that carried the sentence (support
        0.56) with items the articles never give. An item is stated when a passage has at least
        half of its content words that are neither the question's nor shared by every item
        ("lack"): "proper data quality" is not stated by a passage that says "data science".
        Any passage will do, since the sentence is cited whole."""
        items = listed_items(text)
        words = [content_words(i) - self.asked for i in items]
        shared = set.intersection(*words) if words else set()
        return [item for item, w in zip(items, (w - shared for w in words), strict=True)
                if w and not any(2 * len(w & pw) >= len(w) for pw in self.pwords)]
