"""rag.article_names: which articles a question names, by author, publication or title words."""

import pytest

from rag import article_names
from rag.article_names import ArticleNames
from rag.claims import named_authors
from rag.documents import Article


def _article(doc_id: str, title: str, text: str = "Some text.", **metadata: str) -> Article:
    return Article(doc_id, title, text, "hash", metadata)


ARTICLES = {a.doc_id: a for a in [
    _article("hope.md", "Product Management with a Data Science Mindset", author="Tyna Hope"),
    _article("guide.md", "The Step-By-Step PM Guide to Building Machine Learning Based Products",
             author="Yael Gavish"),
    _article("sprint2.md", "Sprint 2 — Do what you do"),
    _article("tech.md", "Becoming a more technical product manager"),
    _article("paths.md", "Pathways to Becoming an AI/ML Product Manager", publication="Prowess"),
]}
NAMES = ArticleNames.of(ARTICLES)


@pytest.mark.parametrize(("question", "doc_id"), [
    ("What's the TL;DR of Tyna Hope's article?", "hope.md"),  # the author
    ("Summarize what Gavish says.", "guide.md"),  # a surname
    ("Summarize the step-by-step guide.", "guide.md"),  # two words only its title has
    ("What are the key takeaways of the Sprint 2 post?", "sprint2.md"),
    ("Give me the gist of the technical PM blog post.", "tech.md"),  # the one word only its title has
    ("What are the key points of the Prowess newsletter?", "paths.md"),  # its publication
    ("Summarize what the articles say about product management.", None),  # words most titles share
    ("Summarize what the articles say about pricing.", None),
])
def test_the_article_a_question_names(question, doc_id):
    assert NAMES.named_article(question) == doc_id


def test_without_a_summary_request_only_an_author_or_publication_names_an_article():
    """Title words are topic words too: "data science" does not name the Data Science Mindset post."""
    assert NAMES.named_article("What does Gavish say about data?", by_title=False) == "guide.md"
    assert NAMES.named_article("What does the Prowess newsletter say about courses?", by_title=False) == "paths.md"
    assert NAMES.named_article("What is data science?", by_title=False) is None
    assert NAMES.named_article("What is data science?") == "hope.md"  # what by_title=True would do


def test_two_articles_named_equally_name_neither():
    both = dict(ARTICLES, **{"hope2.md": _article("hope2.md", "Monitoring in Production", author="Tyna Hope")})
    names = ArticleNames.of(both)
    assert names.named_article("What's the TL;DR of Tyna Hope's article?") is None
    assert names.named_article("Summarize Tyna Hope's post on monitoring in production.") == "hope2.md"


@pytest.mark.parametrize(("question", "doc_ids"), [
    ("Compare Tyna Hope's and Yael Gavish's advice.", ["hope.md", "guide.md"]),  # authors, in the asked order
    ("How does Gavish's advice differ from Hope's?", ["guide.md", "hope.md"]),
    ("Compare the Prowess newsletter with Gavish's guide.", ["paths.md", "guide.md"]),  # a publication
    ("How does the step-by-step guide differ from the Sprint 2 post?", ["guide.md", "sprint2.md"]),  # titles
    ("How does Gavish's advice differ from the other articles?", ["guide.md"]),  # one named
    ("Compare what the articles say about product management.", []),  # words most titles share
    # Title words not followed by a word for an article are a topic (dev q10, blind b07).
    ("How should its data science team differ, according to the step-by-step guide?", ["guide.md"]),
    ("Is the data science post similar to the step-by-step guide?", ["hope.md", "guide.md"]),
    ("Why does the technical PM guy use Cursor, unlike the Sprint 2 post?", ["sprint2.md"]),
    # Title words far apart in a long message, a word for an article elsewhere: no name.
    ("Our data team is new. I start building a model soon, and I have read a few blog posts about it. "
     "The science behind it is new to me, and how it differs from machine learning in general.", []),
])
def test_the_articles_a_question_names_in_order(question, doc_ids):
    assert NAMES.named_articles(question) == doc_ids


def test_a_large_collection_is_matched_by_looking_names_up_not_by_checking_every_article(monkeypatch):
    """Among 3,000 other articles the named one is still found, and only the authors the
    question's words point at are checked (checking all cost ~1 ms per article per question)."""
    many = dict(ARTICLES)
    for i in range(3000):
        many[f"x{i}.md"] = _article(f"x{i}.md", f"Product manager notes {i}", author=f"Writer Number{i}")
    names = ArticleNames.of(many)
    checked = []

    def counting(text, authors):
        checked.extend(authors)
        return named_authors(text, authors)

    monkeypatch.setattr(article_names, "named_authors", counting)
    assert names.named_article("What does Gavish say about data?", by_title=False) == "guide.md"
    assert names.named_article("What does Number17 say about data?", by_title=False) == "x17.md"
    assert names.named_articles("Compare Number5's notes with Tyna Hope's.") == ["x5.md", "hope.md"]
    # A first name alone names no one: "Writer" is every extra author's, and the 3,000 are
    # checked for this question only.
    assert names.named_article("What does Writer say?", by_title=False) is None
    assert len(checked) == 1 + 1 + 2 + 3000
