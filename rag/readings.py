"""A second reading: the same passages in another order, and the better-checked answer kept.

The small local model's answer depends on the order of its passages: it keeps 78 of the 101 key facts that passage [1] holds and 38 of the 72 that only a
later passage holds (docs/answers.md, stop 39, `benchmarks/fact_losses.py`), and one reorder
moves a set's key-fact recall by up to 0.2 either way. No single order wins everywhere,
so the assistant reads the passages twice: first in retrieval order, then ordered by each
passage's own similarity to the question (`reordered`), and keeps the answer the verifier
supports better (`better`). On seven QA sets that kept 126 of 223 key facts against 116 for
retrieval order alone, and no set lost a key fact or a refusal. Generating, retrying and
verifying a reading are left to `rag.assistant` and `rag.compose`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.answer import Answer
from rag.embedding import Embedder
from rag.prompting import Passage


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
    if not answer.sentences:
        return 0.0
    return sum(s.support for s in answer.sentences if s.supported) / len(answer.sentences)


def better(first: Answer, second: Answer) -> Answer:
    """The answer the verifier backs better; the first on a tie. A refusal loses to any
    answer: an answer is only shown when the verifier found support for it (rag.compose)."""
    return second if checked_support(second) > checked_support(first) else first
