"""Cost per question of finding the article a question names, at 5 to 10,000 articles:
rag.article_names' word lookup vs checking the question against every article (how it was
done before stop 37: each author's name patterns and each title's stemmed words, per
question). Synthetic articles with random titles, authors and publications; the dev set's 49
questions plus one that names an author. Run from the repo root:
`.venv/bin/python benchmarks/name_lookup.py` (figures in docs/answers.md, stop 37)."""
import json
import random
import time
from collections import Counter
from pathlib import Path

from rag.article_names import ArticleNames
from rag.claims import content_words, named_authors
from rag.documents import Article

REPO = Path(__file__).resolve().parents[1]
random.seed(0)
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "shi", "pe", "dra", "gon"]


def word() -> str:
    return "".join(random.choices(SYLLABLES, k=4))


def collection(n: int) -> dict[str, Article]:
    return {f"a{i}.md": Article(f"a{i}.md", " ".join(word() for _ in range(6)), "", "h",
                                {"author": f"{word().title()} {word().title()}", "publication": word()})
            for i in range(n)}


def every_article(question: str, articles: dict[str, Article]) -> set[str]:
    """The baseline: what the old code did per question, article by article."""
    asked = content_words(question)
    by_author = {d for d, a in articles.items() if named_authors(question, [a.author])}
    places = {d: frozenset(content_words(a.metadata.get("publication", ""))) for d, a in articles.items()}
    count = Counter(places.values())
    by_place = {d for d, p in places.items() if p and p <= asked and count[p] == 1}
    # The old code also stemmed every title and counted its words per question; timed here,
    # though only a summary request used them.
    titles = {d: content_words(a.title) for d, a in articles.items()}
    _ = Counter(w for ws in titles.values() for w in ws)
    return by_author | by_place


def per_question_ms(fn, questions: list[str]) -> float:
    t = time.perf_counter()
    for q in questions:
        fn(q)
    return (time.perf_counter() - t) * 1000 / len(questions)


questions = [json.loads(line)["question"] for line in (REPO / "eval" / "dev_qa.jsonl").open()]
rows = []
for n in (5, 100, 1000, 10000):
    articles = collection(n)
    author = next(iter(articles.values())).author.split()[-1]
    qs = questions + [f"What does {author} say about pricing?"]
    t = time.perf_counter()
    names = ArticleNames.of(articles)
    build_ms = (time.perf_counter() - t) * 1000
    for q in qs:  # the same answer both ways
        found = every_article(q, articles)
        assert names.named_article(q, by_title=False) == (next(iter(found)) if len(found) == 1 else None), q
    old = per_question_ms(lambda q, a=articles: every_article(q, a), qs)
    new = per_question_ms(lambda q, m=names: (m.named_article(q), m.named_articles(q)), qs)
    rows.append({"articles": n, "every_article_ms": round(old, 3), "lookup_ms": round(new, 3),
                 "speedup": round(old / new, 1), "build_once_ms": round(build_ms, 1)})
    print(json.dumps(rows[-1]))
