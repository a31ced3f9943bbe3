"""The result types of a question: `Answer`, `Citation`, `SentenceCheck`, `Timings`, and
`Reading` and `Rereading`, the progress notes streamed before an answer and before its
second reading.

Plain dataclasses with a `to_dict` that is the `pmrag ask --json` schema. Producing them is
left to `rag.assistant`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
    """A verified source. `text` is `article_text[start:end]`: the passage the LLM was shown.
    `quote_start:quote_end` is the sentence in it that best supports the answer."""

    n: int
    doc_id: str
    title: str
    source: str  # where the article came from: its URL if known, else its corpus path
    heading: str
    start: int
    end: int
    text: str
    score: float
    quote_start: int = 0
    quote_end: int = 0
    quote: str = ""
    page: int | None = None
    byline: str = ""  # "by Yael Gavish, published on 25 July 2017" (`Article.byline`), if known


@dataclass(frozen=True)
class Reading:
    """Streamed (on request) when the LLM starts reading its passages, seconds before the
    first answer text: what the page can show meanwhile instead of a bare "Searching …"."""

    question: str  # as the articles are asked it: a follow-up's standalone rewrite
    titles: list[str]  # the articles the passages come from, in passage order, once each
    passages: int


@dataclass(frozen=True)
class Rereading:
    """Streamed (on request) when the first answer is written and the LLM reads the same
    passages again in another order (rag.readings): the verified answer comes seconds later,
    and a reader should know the text shown so far is not final."""

    passages: int


@dataclass(frozen=True)
class SentenceCheck:
    text: str
    citations: list[int]
    supported: bool
    support: float
    # The article's sentence nearest a yes/no question, added by the assistant after the
    # model's (rag.key_quote): the article's words, not a claim the model wrote.
    key_quote: bool = False


@dataclass
class Timings:
    rewrite_ms: float = 0.0  # a follow-up made standalone (rag.followup), before retrieval
    retrieve_ms: float = 0.0
    first_token_ms: float = 0.0  # from the start of generation
    generate_ms: float = 0.0
    total_ms: float = 0.0
    wait_ms: float = 0.0  # from the question to the first answer text shown: what a reader waits


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    # On a refusal: the nearest passages, so the user sees what the articles do say.
    nearest: list[Citation] = field(default_factory=list)
    standalone_question: str = ""
    raw_answer: str = ""
    timings: Timings = field(default_factory=Timings)
    llm_called: bool = False
    # The index generation the passages and citations come from: while a re-index runs, a
    # citation's offsets are only meaningful against the corpus version that answered.
    index_generation: str = ""
    # How many times the LLM read the passages (0: not called; 2: a second time in another
    # order, rag.readings), and which reading this answer comes from.
    readings: int = 0
    reading: int = 0
    # The reading the reader stopped (0: none). Stopped in the first, the answer is what was
    # written so far, checked; in the second, it is the first reading's checked answer.
    stopped_at: int = 0
    # A follow-up whose rewrite by the model was not used as it is: that rewrite, and why.
    rewrite_proposed: str = ""
    rewrite_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "sentences": [asdict(s) for s in self.sentences],
            "nearest": [asdict(c) for c in self.nearest],
            "standalone_question": self.standalone_question or self.question,
            "rewrite_proposed": self.rewrite_proposed,
            "rewrite_note": self.rewrite_note,
            "timings": asdict(self.timings),
            "index_generation": self.index_generation,
            "readings": self.readings,
            "reading": self.reading,
            "stopped_at": self.stopped_at,
        }
