"""A second reading: the same passages in another order, and the better-checked answer kept.

The small local model's answer depends on the order of its passages: it keeps 78 of the 101
key facts that passage [1] holds and 38 of the 72 that only a later passage holds
(docs/answers.md, stop 39, `benchmarks/fact_losses.py`), and one reorder moves a set's
key-fact recall by up to 0.2 either way. No single order wins everywhere, so the assistant
reads the passages twice (`read`, the model's reply with its retry after a false NOT
COVERED): first in retrieval order, then ordered by each passage's own similarity to the
question (`reordered`), and keeps the answer the verifier supports better (`better`). On
seven QA sets that kept 126 of 223 key facts against 116 for retrieval order alone, and no
set lost a key fact or a refusal. Generating, retrying and verifying a reading's answer is
left to `rag.compose`, picking the passages to `rag.assistant`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator
from dataclasses import replace

import numpy as np
from langchain_core.language_models import BaseChatModel

from rag.answer import Answer, Timings
from rag.compose import is_not_covered
from rag.config import Settings
from rag.embedding import Embedder
from rag.generation import banned_words_kwargs
from rag.markers import name_cited_articles, opens_with_markers_as_subject
from rag.passages import Passage
from rag.prompting import REFUSAL_WORDS, build_messages
from rag.reply_stream import says_nothing, stream_reply

log = logging.getLogger(__name__)

ReplyStream = Generator[str, None, tuple[str, bool]]


def read(chat_model: BaseChatModel, settings: Settings, question: str, passages: list[Passage], may_retry: bool,
         timings: Timings, t0: float, t_gen: float, stop: threading.Event | None = None) -> ReplyStream:
    """One reading of `passages`: streams the model's reply and returns it, with whether it
    came on a retry. `may_retry`: retrieval found passages close enough that a NOT COVERED
    (or a reply of bare markers) is asked once more. Once `stop` is set the reply is cut at
    its last finished sentence and not retried (`rag.reply_stream`)."""
    raw = yield from stream_reply(chat_model, build_messages(question, passages), timings, t0, t_gen, settings,
                                  stop=stop)
    if stop is not None and stop.is_set():
        return raw, False
    # "[1] and [3]" answers "Which article should I read ...?": not a bare-markers reply.
    named = name_cited_articles(raw, passages, question)
    retried = (is_not_covered(raw) or says_nothing(named) or opens_with_markers_as_subject(named)) and may_retry
    if retried:
        # The small model says NOT COVERED too readily (16 of 38 answerable dev questions),
        # or answers with bare markers ("[1] [2] [3] [4]" when the passages are a list of
        # contents) or bare list labels ("B [2] and C [3]"); when retrieval found close
        # passages, ask once more and let the verifier judge. The retry may not write the
        # words of a refusal (where the backend allows it): the refusal wins greedy decoding
        # with a minority of the probability (see REFUSAL_WORDS). A yes/no question is
        # asked as what the passages say about it (see YES_NO_RETRY_QUESTION). A reply that
        # opens with markers for its subject says nothing once they are stripped: retried too.
        log.info("model said %r with close passages; asking again", raw.strip()[:40])
        raw = yield from stream_reply(chat_model, build_messages(question, passages, retry=True), timings, t0,
                                      t_gen, settings, banned_words_kwargs(chat_model, REFUSAL_WORDS, continues=True),
                                      stop=stop)
    return raw, retried


def drained(reading: ReplyStream) -> tuple[str, bool]:
    """Run a reading to its end without passing its text on; what it returns."""
    while True:
        try:
            next(reading)
        except StopIteration as end:
            return end.value


def reordered(passages: list[Passage], question_vector: np.ndarray, embedder: Embedder) -> list[Passage] | None:
    """The passages ordered by their text's cosine to the question and numbered again from
    [1], or None when that is the order they are in (a second reading would repeat the
    first). Ties keep retrieval order."""
    if len(passages) < 2:
        return None
    sims = embedder.embed([p.text for p in passages]) @ question_vector
    order = [int(i) for i in np.argsort(-sims, kind="stable")]
    if order == list(range(len(passages))):
        return None
    return [replace(passages[j], n=i + 1) for i, j in enumerate(order)]


def checked_support(answer: Answer) -> float:
    """How well the verifier backs an answer: its supported sentences' support, summed and
    divided by all its sentences (an unsupported one counts 0). A refusal scores -1, below
    any answer."""
    if answer.refused:
        return -1.0
    # The key quote is the same passage sentence whichever order the passages were read in,
    # and fully "supported" by construction: counted, it made a reading whose every own
    # sentence failed beat one whose claims checked out (blind5 g04, docs/answers.md stop 42).
    own = [s for s in answer.sentences if not s.key_quote]
    if not own:
        return 0.0
    return sum(s.support for s in own if s.supported) / len(own)


def better(first: Answer, second: Answer) -> Answer:
    """The answer the verifier backs better; the first on a tie. A refusal loses to any
    answer: an answer is only shown when the verifier found support for it (rag.compose)."""
    return second if checked_support(second) > checked_support(first) else first
