"""rag.named_article: which questions ask for an article's gist or a comparison, and the passages
that stand for an article (real embedding model). Which article they name: test_article_names."""

import pytest

from rag.chunking import chunk_text
from rag.documents import Article
from rag.named_article import (
    article_passages,
    asks_for_summary,
    asks_to_compare,
    asks_who_someone_is,
    background_passages,
    comparison_passages,
    summary_passages,
)


def _article(doc_id: str, title: str, text: str = "Some text.", **metadata: str) -> Article:
    return Article(doc_id, title, text, "hash", metadata)


@pytest.mark.parametrize("question", [
    "Summarize the step-by-step guide.", "What's the TL;DR of Tyna Hope's article?",
    "What are the key takeaways of the Sprint 2 post?", "Give me the gist of the technical PM blog post.",
    "What is the newsletter about becoming an AI/ML PM about, in a nutshell?",
])
def test_a_request_for_the_gist_is_a_summary_question(question):
    assert asks_for_summary(question)


@pytest.mark.parametrize("question", [
    "Why is monitoring important?", "What is a data pipeline?", "Who wrote the step-by-step guide?",
])
def test_other_questions_are_not(question):
    assert not asks_for_summary(question)


def test_summary_passages_are_the_opening_and_the_most_central_chunks_in_order(embedder):
    paragraphs = [f"Monitoring models in production matters, part {i}. Models go stale without anyone noticing."
                  for i in range(6)]
    paragraphs.insert(0, "This post introduces what a PM should know about keeping models healthy.")
    paragraphs.insert(3, "Unrelated aside: my cat likes to sleep on the keyboard when I write.")
    text = "\n\n".join(paragraphs)
    article = _article("mon.md", "Keeping Models Healthy", text, author="Tyna Hope")
    chunks = chunk_text("mon.md", text, embedder.count_tokens, chunk_tokens=24, overlap_tokens=0)
    assert len(chunks) > 4
    qvec = embedder.embed_query("What's the TL;DR of this post?")
    passages = summary_passages(article, qvec, embedder, k=4, chunk_tokens=24, overlap_tokens=0)
    assert [p.n for p in passages] == [1, 2, 3, 4]
    assert passages[0].start == chunks[0].start  # the opening
    assert [p.start for p in passages] == sorted(p.start for p in passages)  # article order
    assert all("cat" not in p.text for p in passages)  # the aside is not central
    assert all(p.text == text[p.start:p.end] and p.author == "Tyna Hope" for p in passages)
    with pytest.raises(ValueError):
        summary_passages(article, qvec, embedder, k=0, chunk_tokens=24, overlap_tokens=0)


def test_article_passages_are_the_chunks_most_like_the_question_best_first(embedder):
    text = "\n\n".join([
        "Our team adopted lantern reviews last spring.",
        "Pricing the product was hard: we tried three tiers and dropped one.",
        "The roadmap is a list of ways to improve the algorithm.",
        "Monitoring models in production matters: models go stale without anyone noticing.",
    ])
    article = _article("mix.md", "A Mixed Bag", text, author="Tyna Hope")
    qvec = embedder.embed_query("How did they price the product?")
    passages = article_passages(article, qvec, embedder, k=2, chunk_tokens=16, overlap_tokens=0)
    assert len(passages) == 2 and [p.n for p in passages] == [1, 2]
    assert "Pricing" in passages[0].text
    assert passages[0].hit.dense >= passages[1].hit.dense
    assert all(p.text == text[p.start:p.end] and p.author == "Tyna Hope" for p in passages)


@pytest.mark.parametrize("question", [
    "Compare Tyna Hope's and Yael Gavish's advice.", "How does Gavish's advice differ from Hope's?",
    "What do Hope and Gavish agree on?", "Hope vs. Gavish on data: who is right?",
    "What do the guide and the newsletter have in common?", "Is the technical PM blog similar to the guide?",
])
def test_a_request_to_compare_is_recognised(question):
    assert asks_to_compare(question)


@pytest.mark.parametrize("question", [
    "Summarize the step-by-step guide.", "What does Gavish say about data?", "Why is monitoring important?",
])
def test_other_questions_do_not_compare(question):
    assert not asks_to_compare(question)


def test_comparison_passages_share_k_between_the_articles_and_number_them_in_order(embedder):
    def article(doc_id: str, author: str, topic: str) -> Article:
        text = "\n\n".join(f"{topic}, point {i}. This matters for every product team we met." for i in range(6))
        return _article(doc_id, f"On {topic}", text, author=author)

    first, second = article("a.md", "Tyna Hope", "Monitoring models"), article("b.md", "Yael Gavish", "Pricing plans")
    qvec = embedder.embed_query("How do they differ?")
    passages = comparison_passages([first, second], qvec, embedder, k=5, chunk_tokens=16, overlap_tokens=0)
    assert [p.n for p in passages] == [1, 2, 3, 4, 5] and [p.hit.rank for p in passages] == [1, 2, 3, 4, 5]
    assert [p.hit.doc_id for p in passages] == ["a.md"] * 3 + ["b.md"] * 2  # the first named gets the odd one
    assert all(p.text == (first if p.hit.doc_id == "a.md" else second).text[p.start:p.end] for p in passages)
    with pytest.raises(ValueError):
        comparison_passages([first], qvec, embedder, k=4, chunk_tokens=16, overlap_tokens=0)


@pytest.mark.parametrize(("question", "expected"), [
    ("Who is Yael Gavish?", True), ("Who's Gavish?", True), ("who is Tyna Hope", True),
    ("Who is the author of the step-by-step guide?", False),  # a source question, answered from bylines
    ("Who is responsible for the data?", False), ("Who is Yael Gavish and what does she do at work?", False),
])
def test_who_is_a_name_and_nothing_more(question, expected):
    assert asks_who_someone_is(question) is expected


def test_background_passages_are_the_authors_account_of_herself(embedder):
    text = "\n\n".join([
        "Monitoring models in production matters: models go stale without anyone noticing.",
        "I started working at a startup right after my PhD, and I have led ML product teams since.",
        "Pricing the product was hard: we tried three tiers and dropped one.",
    ])
    article = _article("bio.md", "Notes from the Field", text, author="Tyna Hope")
    passages = background_passages(article, embedder, k=1, chunk_tokens=24, overlap_tokens=0)
    assert len(passages) == 1 and "PhD" in passages[0].text
