"""`Assistant`: ask questions over the index and get verified, cited answers.

This is the one factory that turns `Settings` into parts (embedder, store, retriever, chat
model); everything else receives its parts. A question goes: retrieve (hybrid) -> refuse
without the LLM when nothing is relevant enough -> cut hits to short passages -> generate
(streamed) -> verify every sentence and re-point or drop its markers -> `Answer`
(`rag.compose` builds the answer or the refusal from the reply). The
assistant notices a new index generation and switches to it between questions, so a
rebuild never interrupts a running page. Formatting for people is left to the CLI and UI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import Answer, Reading, Rereading, Timings
from rag.article_names import ArticleNames
from rag.citations import VerifyConfig
from rag.compose import STOPPED_TEXT, AnswerComposer
from rag.config import Settings
from rag.documents import Article
from rag.embedding import Embedder, EmbeddingCache, SentenceTransformerEmbedder
from rag.errors import EmptyQuestionError, IndexChangedError
from rag.followup import Rewrite, needs_rewrite, normalise_history, rewrite
from rag.generation import build_chat_model, describe
from rag.langchain_retriever import LangChainRetriever
from rag.long_question import own_question
from rag.named_article import (
    article_passages,
    asks_for_summary,
    asks_to_compare,
    asks_who_someone_is,
    background_passages,
    comparison_passages,
    summary_passages,
)
from rag.passages import Passage, select_passages
from rag.readings import better, drained, read, reordered
from rag.retrieval import Hit, HybridRetriever, RetrievalConfig
from rag.store import IndexData
from rag.stores import Store, open_retriever, open_store

log = logging.getLogger(__name__)

# The relevance gates look at the best cosine among this many fused candidates, not only the
# passages shown: they were calibrated that way (docs/answers.md), and a question whose closest
# passage ranks 5th after fusion is still about the articles (dev q49: 0.348 at rank 5 or lower,
# 0.312 in the top 4, below the 0.34 gate, so it was refused without the LLM).
GATE_DEPTH = 20

def build_embedder(settings: Settings) -> Embedder:
    cache = EmbeddingCache(settings.cache_dir / "embeddings.sqlite")
    return SentenceTransformerEmbedder(settings.embed_model, batch_size=settings.embed_batch_size,
                                       cache=cache, models_dir=settings.models_dir)


def retrieval_config(settings: Settings) -> RetrievalConfig:
    return RetrievalConfig(
        candidates=settings.retrieve_k, fusion=settings.fusion, rrf_k=settings.rrf_k,
        dense_weight=settings.dense_weight, bm25_weight=settings.bm25_weight,
        bm25_k1=settings.bm25_k1, bm25_b=settings.bm25_b, title_repeat=settings.title_repeat,
        feedback_docs=settings.feedback_docs, rm3_terms=settings.rm3_terms, rm3_mix=settings.rm3_mix,
        rocchio_beta=settings.rocchio_beta, doc_aggregation=settings.doc_aggregation,
        doc_top_chunks=settings.doc_top_chunks, doc_bm25_weight=settings.doc_bm25_weight,
        mmr_lambda=settings.mmr_lambda,
        expand_acronyms=settings.expand_acronyms,
    )


class Assistant:
    """Question answering over one index. Thread-safe: many sessions may ask at once; the
    LLM itself serialises generation."""

    def __init__(self, settings: Settings, embedder: Embedder, store: Store,
                 chat_model: BaseChatModel | None = None):
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self._chat_model = chat_model
        self._lock = threading.Lock()
        self._retriever = self._load_retriever()
        # The loaded articles' names, indexed once per generation (rag.article_names).
        self._names: tuple[dict[str, Article], ArticleNames] | None = None
        self.composer = AnswerComposer(embedder, settings.corpus_dir, VerifyConfig(
            settings.verify_min_support, settings.verify_lexical_weight,
            retry_min_support=settings.verify_retry_min_support), settings.key_quote_min_similarity)

    @classmethod
    def load(cls, settings: Settings | None = None, *, chat_model: BaseChatModel | None = None,
             embedder: Embedder | None = None, store: Store | str | None = None,
             **overrides: Any) -> Assistant:
        """Open the index in `settings.index_dir` (or `index=...`), or in Postgres when
        `settings.store_url` is set or `store` is a URL (or any `Store`). Raises
        IndexMissingError if there is none, IndexMismatchError if it was built with another
        setup, StoreUnavailableError if the database cannot be used."""
        if "index" in overrides:
            overrides["index_dir"] = overrides.pop("index")
        if "corpus" in overrides:
            overrides["corpus_dir"] = overrides.pop("corpus")
        settings = settings or Settings.load(**overrides)
        embedder = embedder or build_embedder(settings)
        if not isinstance(store, Store):
            store = open_store(settings, url=store)
        return cls(settings, embedder, store, chat_model)

    # --- parts --------------------------------------------------------------------------
    def _load_retriever(self) -> HybridRetriever:
        expected = dict(self.settings.chunking_signature(), dim=self.embedder.dim)
        return open_retriever(self.store, self.embedder, expected, retrieval_config(self.settings))

    @property
    def index(self) -> IndexData:
        return self._current().data

    def _current(self) -> HybridRetriever:
        """The retriever of the live generation, reloaded when a rebuild swapped it."""
        live = self.store.current_generation()
        if live and live != self._retriever.data.generation:
            with self._lock:
                if live != self._retriever.data.generation:
                    log.info("index generation changed to %s; reloading", live)
                    self._retriever = self._load_retriever()
        return self._retriever

    def _search(self, question: str, k: int, query_vector: np.ndarray | None = None,
                ) -> tuple[HybridRetriever, list[Hit]]:
        """Search the live generation; a shared store may swap generations mid-search
        (Postgres raises IndexChangedError then), so reload once and search again."""
        for _ in range(3):
            retriever = self._current()
            try:
                return retriever, retriever.search(question, k, query_vector=query_vector)
            except IndexChangedError:
                log.info("index changed during the search; reloading")
        retriever = self._current()
        return retriever, retriever.search(question, k, query_vector=query_vector)

    @property
    def chat_model(self) -> BaseChatModel:
        if self._chat_model is None:
            with self._lock:
                if self._chat_model is None:
                    self._chat_model = build_chat_model(self.settings)
        return self._chat_model

    @property
    def llm_name(self) -> str:
        return describe(self._chat_model) if self._chat_model else self.settings.llm

    @property
    def retriever(self) -> BaseRetriever:
        """A LangChain retriever over the live index (follows rebuilds)."""
        return LangChainRetriever(source=self._current, k=self.settings.top_k)

    def as_runnable(self) -> Runnable:
        """A LangChain Runnable: {"question": str, "chat_history": [...]} -> Answer."""
        def _run(inputs: dict[str, Any]) -> Answer:
            return self.ask(inputs["question"], history=inputs.get("chat_history"))
        return RunnableLambda(_run)

    # --- asking -------------------------------------------------------------------------
    def search(self, question: str, k: int | None = None) -> list[Hit]:
        return self._search(question, k or self.settings.top_k)[1]

    def ask(self, question: str, *, history: list[Any] | None = None, k: int | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history=history, k=k):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None  # stream always ends with an Answer
        return answer

    def stream(self, question: str, *, history: list[Any] | None = None, k: int | None = None,
               progress: bool = False, stop: threading.Event | None = None,
               ) -> Iterator[str | Reading | Rereading | Answer]:
        """Yield answer text as it is generated, then the verified `Answer` last. With
        `progress`, a `Reading` comes first when the LLM starts on the passages: the prompt
        takes ~5 s to evaluate on 2 cores, and a reader can see meanwhile which articles are
        being read, and how a follow-up was understood; and a `Rereading` when the first
        answer is written and a second reading starts (its text is not streamed). Setting
        `stop` ends the wait: the model stops at its next token, and the answer is the first
        reading's finished sentences, checked, or (stopped in the second reading, which takes
        15-35 s more on 2 cores) the first reading's checked answer (`Answer.stopped_at`)."""
        if not question or not question.strip():
            raise EmptyQuestionError("the question is empty; type a question about the articles")
        question = question.strip()
        t0 = time.perf_counter()
        turns = normalise_history(history)
        # A long message is asked as its own question, without the background (rag.long_question).
        ask = own_question(question)
        made = rewrite(ask.question, turns, self.chat_model) if needs_rewrite(ask.question, turns) \
            else Rewrite(ask.question)
        if ask.note:
            made = Rewrite(made.question, made.proposed, "; ".join(n for n in (ask.note, made.note) if n))
        standalone = made.question
        if standalone != question:
            log.info("asked as %r (typed: %r)", standalone, question[:80])
        t_found = time.perf_counter()
        shown = k or self.settings.top_k
        # Embedded once: for retrieval, then to pick passages or a refusal's quotes.
        qvec = self.embedder.embed_query(standalone)
        retriever, found = self._search(standalone, max(shown, GATE_DEPTH), qvec)
        data = retriever.data
        # Candidates for the passages in rank order: the first `shown` unless one repeats another.
        pool = self._named_article_hits(standalone, found, data) or found
        hits = pool[:shown]
        timings = Timings(rewrite_ms=(t_found - t0) * 1000, retrieve_ms=(time.perf_counter() - t_found) * 1000)
        texts = {d: a.text for d, a in data.articles.items()}
        best = max((h.dense for h in found), default=0.0)
        floor, retry_floor = self.settings.relevance_gates()
        gated = not hits or best < floor
        # "TL;DR of Tyna Hope's article?" and "What does Gavish say about data?" name their
        # article but stay below the gate (rag.named_article). The summary request is answered
        # from that article's opening and central passages; the other is still refused without
        # the LLM, but its nearest passages are the named article's. Read by the LLM, such
        # passages gave "Tyna Hope thinks hiring is important for product managers" for "What
        # does Tyna Hope think about hiring?", which she never says (docs/answers.md, stop 21).
        # A question that passes the gate keeps its retrieved passages: for the summary
        # requests tried, answers from them listed more of the article.
        own = self._named_article_passages(standalone, qvec, data, shown) if gated else []
        # "Compare Hope's and Gavish's advice" names two articles and asks what each says: like
        # a summary, answered from each one's gist (rag.named_article.comparison_passages), and
        # refused unless the answer cites both. Above the gate too: retrieval gave "How does the
        # step-by-step guide differ from the technical PM post?" the guide's passages only, and
        # the answer, "The step-by-step guide is more comprehensive [1]", compared nothing.
        both = self._compared_passages(standalone, qvec, data, shown)
        # "Who is Yael Gavish?" is answered from her article's byline and her account of herself.
        if both or (own and (asks_for_summary(standalone) or asks_who_someone_is(standalone))):
            # A summary is what the article says, so NOT COVERED is retried like a false one.
            passages = both or own
            hits, best = [p.hit for p in passages], max(best, retry_floor)
        elif gated:
            log.info("refusing without the LLM: best similarity %.3f < %.3f", best, floor)
            yield _done(self.composer.refusal(question, standalone, qvec, [p.hit for p in own] or hits, data,
                                              timings, llm_called=False), t0, made)
            return
        else:
            passages = select_passages(qvec, pool, texts, self.embedder, k=shown,
                                       max_tokens=self.settings.passage_tokens, articles=data.articles,
                                       lead_tokens=self.settings.lead_passage_tokens)
        if progress:
            titles = list(dict.fromkeys(p.hit.title for p in passages))
            yield Reading(standalone, titles, len(passages))
        t_gen = time.perf_counter()
        may_retry = best >= retry_floor
        raw, retried = yield from read(self.chat_model, self.settings, standalone, passages, may_retry, timings, t0,
                                       t_gen, stop)
        answer = self.composer.answer(question, standalone, qvec, raw, passages, hits, data, timings,
                                      retried=retried, compared=frozenset(p.hit.doc_id for p in both))
        answer.readings = answer.reading = 1
        stopped = stop is not None and stop.is_set()
        if stopped:
            answer.stopped_at = 1
            if answer.refused:  # "couldn't find a clear answer" would blame the articles
                answer.text = STOPPED_TEXT
        # A summary or comparison reads passages picked and ordered for it; any other question
        # is read a second time with its passages in another order (rag.readings).
        again = None if stopped or both or own or self.settings.readings < 2 else reordered(passages, qvec,
                                                                                             self.embedder)
        if again:
            log.info("second reading, passages in order %s", [p.hit.rank for p in again])
            if progress:
                yield Rereading(len(again))
            # Not shown as it comes: the page already shows the first reading's words, and
            # replaces them with the verified answer at the end.
            raw, retried = drained(read(self.chat_model, self.settings, standalone, again, may_retry, timings, t0,
                                        t_gen, stop))
            if stop is not None and stop.is_set():
                log.info("the reader stopped the second reading; the first reading's answer stands")
                answer.stopped_at = 2
            else:
                second = self.composer.answer(question, standalone, qvec, raw, again, hits, data, timings,
                                              retried=retried)
                second.reading = 2
                answer = better(answer, second)
                answer.readings = 2
        timings.generate_ms = (time.perf_counter() - t_gen) * 1000
        yield _done(answer, t0, made)

    def _article_names(self, data: IndexData) -> ArticleNames:
        """`data`'s article names, indexed on first use after each (re)load."""
        names = self._names
        if names is None or names[0] is not data.articles:
            names = (data.articles, ArticleNames.of(data.articles))
            self._names = names  # one assignment: a concurrent question sees old or new, whole
        return names[1]

    def _named_article_hits(self, question: str, found: list[Hit], data: IndexData) -> list[Hit]:
        """The hits from the one article `question` names by author or publication, or [].
        "Which online courses does the Prowess newsletter recommend?" retrieved the technical
        PM post's course list too, and the model credited its courses to the newsletter."""
        doc_id = self._article_names(data).named_article(question, by_title=False)
        return [h for h in found if h.doc_id == doc_id] if doc_id else []

    def _compared_passages(self, question: str, qvec: np.ndarray, data: IndexData, k: int) -> list[Passage]:
        """Passages of each article a comparison names (at least two), or []."""
        if not asks_to_compare(question):
            return []
        named = self._article_names(data).named_articles(question)[:k]
        if len(named) < 2:
            return []
        log.info("the question compares %s; their passages replace the retrieved ones", ", ".join(named))
        return comparison_passages([data.articles[d] for d in named], qvec, self.embedder, k=k,
                                   chunk_tokens=self.settings.chunk_tokens, overlap_tokens=self.settings.chunk_overlap)

    def _named_article_passages(self, question: str, qvec: np.ndarray, data: IndexData, k: int) -> list[Passage]:
        """The passages of the one article `question` names (rag.named_article), or []."""
        summary = asks_for_summary(question)
        doc_id = self._article_names(data).named_article(question, by_title=summary)
        if doc_id is None:
            return []
        log.info("the question names %s; its passages replace the retrieved ones", doc_id)
        article = data.articles[doc_id]
        sizes = {"k": k, "chunk_tokens": self.settings.chunk_tokens, "overlap_tokens": self.settings.chunk_overlap}
        if asks_who_someone_is(question):
            return background_passages(article, self.embedder, **sizes)
        pick = summary_passages if summary else article_passages
        return pick(article, qvec, self.embedder, **sizes)


def _done(answer: Answer, t0: float, made: Rewrite) -> Answer:
    answer.timings.total_ms = (time.perf_counter() - t0) * 1000
    answer.rewrite_proposed, answer.rewrite_note = made.proposed, made.note
    return answer

