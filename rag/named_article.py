"""Questions that name one article, and the passages that answer them from it.

"What's the TL;DR of Tyna Hope's article?" is like no passage in particular, and "What does
Gavish say about data?" is like too many: retrieval ranks chunks of every article by their
likeness to the question, and the best cosine stays below the relevance gate, so both were
refused without the LLM although they name an article of the collection. Which article a
question names is `rag.article_names`'; `rag.assistant` looks titles up only for a summary
request (`asks_for_summary`): without the summary's intent, title words are just topic words
("data science" is in a title too). A summary gets that article's opening chunk and its most
central chunks (closest to the mean of its chunk embeddings: what the article keeps coming
back to), in article order (`summary_passages`), for the LLM. Another question is still
refused without the LLM (read by it, such passages gave invented claims, docs/answers.md), and
its refusal lists the article's chunks most like it (`article_passages`). `rag.assistant` does
this only where the gate would refuse: a question retrieval can answer keeps its retrieved
passages. The chunks are cut again from the article text with the index's chunking settings,
so this works the same on the FAISS folder and on Postgres, and their embeddings come from the
embedding cache when this machine built the index. Generation, verification and refusal are
left to `rag.assistant`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from rag.chunking import Chunk, chunk_text, embedding_text
from rag.documents import Article
from rag.embedding import Embedder
from rag.passages import Passage
from rag.retrieval import Hit

_SUMMARY = re.compile(
    r"\bsummar(?:y|ies|ise|ize|ised|ized|ising|izing)\b|\btl\s*;?\s*dr\b|\bgist\b|\bin\s+a\s+nutshell\b"
    r"|\b(?:key|main|big|core|central)\s+(?:takeaways?|points?|ideas?|lessons?|messages?|arguments?|themes?)\b"
    r"|\boverview\s+of\b|\bwhat\s+is\s+(?:the\s+)?[^?]{0,60}?\b(?:article|post|guide|newsletter|piece|blog)\s+about\b",
    re.IGNORECASE)


# "Compare Hope's and Gavish's advice", "How do they differ?", "Where do they agree?".
_COMPARE = re.compile(r"\b(?:compar|contrast|differ|disagree|agree)\w*|\bversus\b|\bvs\b\.?|\bin\s+common\b"
                      r"|\bsimilar\w*", re.IGNORECASE)


# "Who is Yael Gavish?": a name, nothing else. Case matters: a name is capitalised.
_WHO_IS = re.compile(r"\s*[Ww]ho(?:\s+is|'s|’s)\s+(?:[A-Z][\w.’'-]*\s*){1,3}\?*\s*")


def asks_who_someone_is(question: str) -> bool:
    """True when `question` is "Who is <Name>?" and nothing more."""
    return bool(_WHO_IS.fullmatch(question))


def asks_to_compare(question: str) -> bool:
    """True when `question` asks how articles or authors compare: "Compare ...", "differ",
    "agree", "versus", "in common"."""
    return bool(_COMPARE.search(question))


def asks_for_summary(question: str) -> bool:
    """True when `question` asks for an article's gist: "Summarize ...", "TL;DR", "key
    takeaways", "in a nutshell", "What is the ... post about?"."""
    return bool(_SUMMARY.search(question))


def comparison_passages(articles: list[Article], question_vec: np.ndarray, embedder: Embedder, *, k: int,
                        chunk_tokens: int, overlap_tokens: int) -> list[Passage]:
    """`summary_passages` of each article, k shared out between them (the first named gets
    any odd one), numbered 1..k in that order: a comparison reads each side's gist."""
    if len(articles) < 2:
        raise ValueError("a comparison needs at least two articles")
    share = [k // len(articles) + (1 if i < k % len(articles) else 0) for i in range(len(articles))]
    out: list[Passage] = []
    for article, each in zip(articles, share, strict=True):
        for p in summary_passages(article, question_vec, embedder, k=max(each, 1), chunk_tokens=chunk_tokens,
                                  overlap_tokens=overlap_tokens):
            n = len(out) + 1
            out.append(replace(p, n=n, hit=replace(p.hit, rank=n)))
    return out


def summary_passages(article: Article, question_vec: np.ndarray, embedder: Embedder, *, k: int,
                     chunk_tokens: int, overlap_tokens: int) -> list[Passage]:
    """The article's first chunk and its k-1 chunks closest to the mean of its chunk
    embeddings, in article order, numbered 1..k. A hit's `dense` is its cosine to the question,
    as for retrieved hits, so scores on the page mean the same thing."""
    chunks, vecs = _chunks(article, embedder, k, chunk_tokens, overlap_tokens)
    if not chunks:
        return []
    central = [int(i) for i in np.argsort(-(vecs @ vecs.mean(axis=0))) if i != 0][: k - 1]
    return _passages(article, chunks, vecs @ question_vec, sorted({0, *central}))


# What "Who is Yael Gavish?" asks of her article. The question's own words are a name, which
# no chunk resembles (her guide's passage most like it thanks a "Gal Gavish").
BACKGROUND_QUERY = "The author's own background, experience and career"


def background_passages(article: Article, embedder: Embedder, *, k: int, chunk_tokens: int,
                        overlap_tokens: int) -> list[Passage]:
    """The article's k chunks most like an author's account of herself, best first: the
    passages that answer "Who is <author>?"."""
    return article_passages(article, embedder.embed_query(BACKGROUND_QUERY), embedder, k=k,
                            chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)


def article_passages(article: Article, question_vec: np.ndarray, embedder: Embedder, *, k: int,
                     chunk_tokens: int, overlap_tokens: int) -> list[Passage]:
    """The article's k chunks most like the question, best first, numbered 1..k."""
    chunks, vecs = _chunks(article, embedder, k, chunk_tokens, overlap_tokens)
    if not chunks:
        return []
    similarity = vecs @ question_vec
    return _passages(article, chunks, similarity, [int(i) for i in np.argsort(-similarity)[:k]])


def _chunks(article: Article, embedder: Embedder, k: int, chunk_tokens: int,
            overlap_tokens: int) -> tuple[list[Chunk], np.ndarray]:
    if k < 1:
        raise ValueError("k must be at least 1")
    chunks = chunk_text(article.doc_id, article.text, embedder.count_tokens,
                        chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)
    if not chunks:
        return [], np.zeros((0, embedder.dim), np.float32)
    return chunks, embedder.embed([embedding_text(article.title, c) for c in chunks])


def _passages(article: Article, chunks: list[Chunk], similarity: np.ndarray, order: list[int]) -> list[Passage]:
    passages = []
    for n, i in enumerate(order, start=1):
        c = chunks[i]
        hit = Hit(c, article.title, float(similarity[i]), float(similarity[i]), 0.0, n)
        passages.append(Passage(n, hit, c.start, c.end, c.text, article.byline, article.author))
    return passages
