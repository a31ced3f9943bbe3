"""For a yes/no question, the article's own sentence nearest to it, added to the answer.

Asked yes or no, the small model says "Yes" whatever the passages say, and often answers
around the point: to "As an ML PM, am I still the one who designs the whole feature?" it
answered "Yes, ... you still need to understand the problem ..." while the passage it was
shown says "As an ML PM you still need that skill set, except now you don't design
everything." (fresh f10). The passage sentence most like a yes/no question is usually the
article's stance on it, so when it is close enough and the answer leaves it out, the answer
ends with it as a quote in the article's exact words, cited. Not for open questions: there the
sentence most like the question is often the article restating the situation asked about
("Example: The DS team have created a model ... that works well but has very complex
features", dev q01), not an answer, and it cost citation precision (docs/answers.md, stop 36).
When the model's whole answer is a bare verdict ("Yes, <the question restated>", which no
passage can support), the quote is what answers: "Is it realistic to get into ML product work
with basically zero technical knowledge?" gets "When I started in machine learning I knew next
to nothing …" (blind b02), where the answer used to be refused (docs/answers.md, stop 37). Not
for the model's NOT COVERED or the relevance gate's refusals: a close sentence does not make
an unanswerable question answerable (docs/answers.md, stop 26), and a refusal already
highlights each nearest passage's closest sentence (`rag.compose`). Verifying the model's own
sentences is `rag.citations`'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.claims import content_words
from rag.embedding import Embedder
from rag.passages import LIST_MARK, Passage, is_question, sentence_spans
from rag.prompting import is_yes_no_question

# A sentence shorter than this says too little to stand alone as the answer's quote (a
# heading, "Why?", a list item's first words).
MIN_WORDS = 6
# The answer says it already when it has this share of the sentence's content words.
COVERED_SHARE = 0.6
_LIST_MARK = re.compile(rf"^{LIST_MARK}\s*")  # a bullet is no part of the quoted words


@dataclass(frozen=True)
class KeyQuote:
    n: int  # the passage it is quoted from, numbered as in the prompt
    start: int  # its span in the article
    end: int
    text: str
    similarity: float  # cosine to the question


def key_quote(question: str, question_vector: np.ndarray, passages: list[Passage], article_texts: dict[str, str],
              embedder: Embedder, answer_sentences: list[str], *, min_similarity: float) -> KeyQuote | None:
    """For a yes/no `question`, the passage sentence most like it, if its cosine is at least
    `min_similarity` and the answer (`answer_sentences`, as shown) does not already say it;
    else None.
    A passage's own question ("Is it necessary for a PM to be technical?", a reader's question
    in the newsletter) is the most like many questions and answers none, so it is skipped."""
    if min_similarity <= 0 or not passages or not is_yes_no_question(question):
        return None
    spans = [(p, s, e) for p in passages for s, e in sentence_spans(p.text, p.start)]
    texts = [article_texts[p.hit.doc_id][s:e] for p, s, e in spans]
    keep = [i for i, t in enumerate(texts)
            if not is_question(t) and len(t.split()) >= MIN_WORDS]
    if not keep:
        return None
    sims = embedder.embed([texts[i] for i in keep]) @ question_vector
    best = int(np.argmax(sims))
    if float(sims[best]) < min_similarity:
        return None
    i = keep[best]
    words = content_words(texts[i])
    said = content_words(" ".join(answer_sentences))
    if words and len(words & said) >= COVERED_SHARE * len(words):
        return None
    p, s, e = spans[i]
    bullet = _LIST_MARK.match(texts[i])
    if bullet:  # the citation's span must be the quoted words exactly
        s += bullet.end()
    return KeyQuote(p.n, s, e, article_texts[p.hit.doc_id][s:e], float(sims[best]))
