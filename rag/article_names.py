"""Which articles a question names: by author, by publication, or by distinctive title words.

`ArticleNames.of(articles)` reads every article's names once, into maps from a word to the
articles it can name, so a question is matched by looking its own words up rather than by
checking it against every article. Checked article by article (regexes per author, title
words stemmed anew), every question paid 0.44 s at 1,000 articles and 4.6 s at 10,000; looked
up, 0.04-0.05 ms (`benchmarks/name_lookup.py`, docs/answers.md, stop 37). The rules themselves:

- An author is named by full name, or by surname as a capitalised word (`rag.claims.named_authors`).
- A publication ("The Prowess newsletter") names its article when no other article has it.
- A title names its article by its distinctive words (words no other title or publication
  has): at least two of them, or all it has ("the Sprint 2 post", "the step-by-step guide",
  "the technical PM blog post"). Words most titles share ("product", "manager") name nothing.

Which questions ask about a named article, and which passages stand for it, are
`rag.named_article`'s.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from rag.claims import content_words, first_mention, named_authors
from rag.documents import Article

# What a PM calls an article: "the technical PM post", "the step-by-step guide".
_PIECE = re.compile(r"(?:post|article|blog|guide|newsletter|piece|series|essay|writeup)s?", re.IGNORECASE)
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class ArticleNames:
    """The names of a collection's articles, indexed by word. Build it once per loaded index."""

    authors: dict[str, str]  # doc_id -> author(s) as the metadata gives them
    by_name_word: dict[str, frozenset[str]]  # a word of an author's name, as written -> doc_ids
    places: dict[str, frozenset[str]]  # doc_id -> its publication's content words, if no other has it
    by_place_word: dict[str, frozenset[str]]  # a content word of such a publication -> doc_ids
    distinctive: dict[str, frozenset[str]]  # doc_id -> its title/publication words no other article has
    by_distinctive_word: dict[str, str]  # each such word -> the one doc_id that has it

    @classmethod
    def of(cls, articles: Mapping[str, Article]) -> ArticleNames:
        authors = {d: a.author for d, a in articles.items() if a.author}
        by_name: defaultdict[str, set[str]] = defaultdict(set)
        for d, author in authors.items():
            # A name's words are whole words of any question that names it (both patterns of
            # `named_authors` start and end at word boundaries), so they find every candidate.
            for word in _TOKEN.findall(author):
                by_name[word].add(d)
        place_of = {d: frozenset(content_words(a.metadata.get("publication", ""))) for d, a in articles.items()}
        place_count = Counter(place_of.values())
        places = {d: p for d, p in place_of.items() if p and place_count[p] == 1}
        by_place: defaultdict[str, set[str]] = defaultdict(set)
        for d, place in places.items():
            for word in place:
                by_place[word].add(d)
        words = {d: content_words(a.title) | place_of[d] for d, a in articles.items()}
        titles_with = Counter(w for ws in words.values() for w in ws)
        distinctive = {d: frozenset(w for w in ws if titles_with[w] == 1) for d, ws in words.items()}
        return cls(authors, {w: frozenset(ds) for w, ds in by_name.items()}, places,
                   {w: frozenset(ds) for w, ds in by_place.items()}, distinctive,
                   {w: d for d, ws in distinctive.items() for w in ws})

    def named_article(self, question: str, *, by_title: bool = True) -> str | None:
        """The doc_id of the one article `question` names, else None: by author or publication;
        failing that and with `by_title`, by the most distinctive title words, among the named
        author's articles if an author is named. A tie names nothing: guessing would answer
        from the wrong article."""
        asked = content_words(question)
        by_author = self._by_author(question)
        either = by_author | set(self._by_place(asked))
        if len(either) == 1:
            return next(iter(either))
        if not by_title:
            return None
        scores = {d: len(named) for d, named in self._by_title(asked).items() if not by_author or d in by_author}
        if not scores:
            return None
        best = max(scores.values())
        top = [d for d, s in scores.items() if s == best]
        return top[0] if len(top) == 1 else None

    def named_articles(self, question: str) -> list[str]:
        """The doc_ids of every article `question` names, in the order it names them ("Compare
        Hope's advice with the Prowess newsletter's"): by its author, its publication, or its
        distinctive title words next to a word for an article."""
        asked = content_words(question)
        by_author = self._by_author(question)
        by_place = self._by_place(asked)
        by_title = self._by_title(asked)
        found = {d: first_mention(question, self.authors[d]) for d in by_author}
        for d in (by_place.keys() | by_title.keys()) - by_author:
            place = by_place.get(d, frozenset())
            named = place or by_title[d]
            # Title words are topic words too: "its data science team" is no mention of the Data
            # Science Mindset post (dev q10), "the data science post" is.
            if place or _names_a_piece(question, named):
                found[d] = min((m.start() for m in _TOKEN.finditer(question) if content_words(m.group(0)) & named),
                               default=0)
        return sorted(found, key=lambda d: (found[d], d))

    def _by_author(self, question: str) -> set[str]:
        candidates = {d for w in set(_TOKEN.findall(question)) for d in self.by_name_word.get(w, ())}
        return {d for d in candidates if named_authors(question, [self.authors[d]])}

    def _by_place(self, asked: set[str]) -> dict[str, frozenset[str]]:
        candidates = {d for w in asked for d in self.by_place_word.get(w, ())}
        return {d: self.places[d] for d in candidates if self.places[d] <= asked}

    def _by_title(self, asked: set[str]) -> dict[str, set[str]]:
        """The articles with distinctive title words the question has, at least two or all the
        article has, and those words."""
        named: defaultdict[str, set[str]] = defaultdict(set)
        for w in asked:
            if w in self.by_distinctive_word:
                named[self.by_distinctive_word[w]].add(w)
        return {d: ws for d, ws in named.items() if len(ws) >= min(2, len(self.distinctive[d]))}


def _names_a_piece(question: str, stems: set[str] | frozenset[str]) -> bool:
    """A word for an article ("post", "guide", "blog") comes among or within three words after
    a run of the question's words with these stems: words at most three apart ("the step-by-step
    guide", "the data science mindset post"). Not the span from the first such word to the last:
    in a long question ("... I have read a few blog posts about ...", 456 words) that span held
    the whole question, and "data" in one sentence and "science" in another named the Data
    Science Mindset post (docs/answers.md, stop 43)."""
    tokens = _TOKEN.findall(question)
    at = [i for i, t in enumerate(tokens) if content_words(t) & stems]
    runs: list[list[int]] = []
    for i in at:
        if runs and i - runs[-1][-1] <= 3:
            runs[-1].append(i)
        else:
            runs.append([i])
    return any(_PIECE.fullmatch(t) for run in runs for t in tokens[run[0]:run[-1] + 4])
