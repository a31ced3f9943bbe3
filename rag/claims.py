"""What a sentence claims that word overlap cannot check, and the words it is checked with.

The verifier (`rag.citations`) scores a sentence against a passage by shared content words
and embedding similarity. Some claims hide from both: a quantity ("3 hours a week" against
a passage's "3 step process"), who said it ("Gavish says ..." supported by another author's
article), what it is about (a course the question names, "CS50 takes 18 months", supported by
a passage about another course), or a passage sentence copied with the question's word
swapped in ("In finance, AI ..." from the passage's "In healthcare, AI ..."). This module
finds those claims; what to do about them, and the blend of scores, is the verifier's business.
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Iterable

import Stemmer

from rag.passages import Passage

_COPY_MIN_WORDS, _COPY_SHARE = 5, 0.6  # a near copy of a passage sentence
_STEMMER = Stemmer.Stemmer("english")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
    " sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update(thirty="30", forty="40", fifty="50", hundred="100", thousand="1000", million="1000000",
                     half="0.5", dozen="12")
_WORD = re.compile(r"[a-z0-9]+")
_RATE = frozenset({"per", "each", "every"})  # "$8 per month": "per" is not the unit
# "one" as a pronoun, not a count: "one's trade", "one of the best blogs", "no one", "which one".
# Counted, an answer's "an excellent grasp of one's trade" needed a passage stating 1 of
# something, and the near copy of "… your trade from the basics upwards" scored 0 (blind4 e14).
_ONE_AFTER = frozenset({"s", "of", "another"})
_ONE_BEFORE = frozenset({"no", "the", "which", "this", "that", "each", "every", "any", "some"})
_PERIODS = frozenset({"second", "minut", "hour", "day", "week", "month", "quarter", "year", "sprint"})
_STOP = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its"
    " this that these those you your we our they their he she his her i me my not no do does did"
    " can could will would should may might must have has had so than then there here what which"
    " who whom how when where why also just about into over more most such very only own same"
    " each other any all some one".split()
)


def content_words(text: str) -> set[str]:
    """Stemmed content words, so "monitoring" in an answer matches "monitor" in a passage."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return set(_STEMMER.stemWords(words))


def words_of(text: str, stems: set[str]) -> list[str]:
    """The words of `text` whose stems are in `stems`, once each and as written: to name the
    words a check found ("cost" and "month" for the stems "cost" and "month")."""
    words = [w for w in _WORD.findall(text) if _STEMMER.stemWord(w.lower()) in stems]
    return list(dict.fromkeys(words))


def quantities(text: str) -> set[tuple[str, str, str]]:
    """Quantities in `text` as (number, stem of the next content word, a period named within
    the two words after it): "3 hours a week", "3 hours per week" and "a 3-hour week" give ("3",
    "hour", "week"); "four days" gives ("4", "day", ""); "1,000 users" gives ("1000", "user",
    ""); "$8 per month" and "$8 a month" give ("8", "month", ""). The unit matters: a passage's
    "3 step process" does not state "3 hours". So does the period: "In the 72 hours that
    followed" does not state "72 hours a week" (a follow-up's answer, stop 24)."""
    toks = _NUMBER.findall(text.lower())
    out = set()
    for i, tok in enumerate(toks):
        if tok[0].isdigit():
            n = tok.replace(",", "").rstrip(".")
        elif tok in _NUMBER_WORDS:
            n = _NUMBER_WORDS[tok]
            if tok == "one" and ((i + 1 < len(toks) and toks[i + 1] in _ONE_AFTER)
                                 or (i > 0 and toks[i - 1] in _ONE_BEFORE)):
                continue
        else:
            continue
        at = next((j for j in range(i + 1, min(i + 4, len(toks)))
                   if toks[j] not in _STOP and toks[j] not in _RATE and not toks[j][0].isdigit()), None)
        unit = _STEMMER.stemWord(toks[at]) if at is not None else ""
        out.add((n, unit, _period(toks[at + 1:at + 3]) if at is not None else ""))
    return out


def _period(words: list[str]) -> str:
    """The period among `words` (the two after a quantity's unit), unless another quantity
    comes first: in "1,000 users, three hours" the hours are not per user."""
    for word in words:
        if word[0].isdigit() or word in _NUMBER_WORDS:
            return ""
        if (stem := _STEMMER.stemWord(word)) in _PERIODS:
            return stem
    return ""


def swaps_in_asked(sentence: str, source: str, passage_words: set[str], asked: set[str]) -> bool:
    """`sentence` copies `source`, a sentence of a passage, but puts a word of the question where
    `source` has another one, although the passage uses the question's word elsewhere: "In
    finance, AI has been employed to analyze medical data" from "In healthcare, AI has been
    used to analyze medical data", in a passage with its own sentence on finance (dev q18).
    The question's words prove nothing in the lexical score, so only the copy shows the swap.
    A word the passage's text never uses ("pieces" for its "components") is a paraphrase,
    even when its title or heading has it ("UX" for "design" under a heading on UX)."""
    mine = _STEMMER.stemWords(_WORD.findall(sentence.lower()))
    theirs = _STEMMER.stemWords(_WORD.findall(source.lower()))
    match = difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False)
    copied = sum(b.size for b in match.get_matching_blocks())
    if copied < _COPY_MIN_WORDS or copied < _COPY_SHARE * len(theirs):
        return False
    for op, i1, i2, j1, j2 in match.get_opcodes():
        put = [w for w in mine[i1:i2] if w not in _STOP]
        lost = [w for w in theirs[j1:j2] if w not in _STOP]
        if (op == "replace" and len(put) == 1 and len(lost) == 1 and put[0] in asked
                and put[0] in passage_words and put[0] not in theirs and lost[0] not in asked):
            return True
    return False


# Words that make a sentence the writer's own voice.
_FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our", "ours"})
_QUOTE_SHARE = 0.8  # of the two sentences' words in the same order: a copy, not a paraphrase


def is_first_person_copy(sentence: str, source: str) -> bool:
    """`sentence` is a near copy of `source`, a passage sentence in the first person: "I want
    to start learning more about AI and ML because I've been interested in them." Shown as
    the assistant's own words it would be the assistant speaking, so it is quoted instead."""
    mine = _WORD.findall(sentence.lower())
    theirs = _WORD.findall(source.lower())
    if not _FIRST_PERSON & set(mine):
        return False
    return difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False).ratio() >= _QUOTE_SHARE


# After a surname opening a sentence, a verb of saying (or a possessive) makes it a name:
# "Gavish says ...", "Hope's advice is ..."; "Hope is not a strategy" is the noun.
_SAYS = (r"(?:['’]s\b|\s+(?:\w+\s+)?(?:says|said|argues|argued|writes|wrote|suggests|suggested|recommends"
         r"|recommended|notes|noted|thinks|believes|explains|explained|advises|advised|warns|warned|points"
         r"|describes|described|emphasi[sz]es|stresses|claims|states|mentions|mentioned|adds|added)\b)")


def named_authors(text: str, authors: Iterable[str]) -> set[str]:
    """Those of `authors` (as `Article.author` gives them) that `text` names: by full name, or
    by surname as a capitalised word ("What does Gavish say ...?"); a surname opening the text
    only before a verb of saying ("Gavish says ..."). Co-authors ("A and B", "A, B") count one
    by one."""
    found = set()
    for author in {a for a in authors if a}:
        for name, surname in _names(author):
            if re.search(rf"\b{re.escape(name)}\b", text) or (surname and (
                    re.search(rf"(?<=\S)\s+{re.escape(surname)}\b", text)
                    or re.match(rf"\s*{re.escape(surname)}{_SAYS}", text))):
                found.add(author)
    return found


def first_mention(text: str, author: str) -> int:
    """Where `text` first names `author` (full name or surname of any co-author), else 0."""
    return min((m.start() for name, surname in _names(author) for n in (name, surname) if n
                for m in re.finditer(rf"\b{re.escape(n)}\b", text)), default=0)


def _names(author: str) -> list[tuple[str, str]]:
    """(full name, surname) of each co-author; the surname is "" when too short to trust."""
    out = []
    for name in re.split(r"\s*(?:,|&|\band\b)\s*", author):
        parts = name.split()
        if parts:
            out.append((name, parts[-1] if len(parts[-1]) > 2 else ""))
    return out


def speaks_for(passage: Passage, authors: set[str]) -> bool:
    """The passage is by one of `authors`, or names one of them (an article quoting her)."""
    if passage.author in authors:
        return True
    return any(re.search(rf"\b{re.escape(surname or name)}\b", passage.text)
               for author in authors for name, surname in _names(author))


def states(passage: set[tuple[str, str, str]], claimed: set[tuple[str, str, str]]) -> bool:
    """Every claimed quantity appears in the passage: same number, same unit word (a number
    that ends the sentence carries no unit and only needs the number) and, for a rate, the same
    period ("$8" is stated by "$8 per month"; "72 hours a week" is not by "72 hours"). A time
    claimed without a period is not stated by a rate: "4 days" is not "a 4-day work week"."""
    return all(any(pn == n and (not u or pu == u) and (r == pr if u in _PERIODS else not r or pr == r)
                   for pn, pu, pr in passage)
               for n, u, r in claimed)


# Short acronyms ("ML", "PM", "CS", "LLMs") name the field, not a thing in it.
_ACRONYM = re.compile(r"[A-Z]{1,4}(?:e?s)?")
# Spelled like names, but as common here; and words capitalised for being months or days.
_COMMON_NAMES = frozenset({"phd", "phds", "saas", "devops"}) | frozenset(
    m.lower() for m in (*calendar.month_name[1:], *calendar.day_name))
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$")
_LETTER_DIGIT = re.compile(r"[a-z]\d|\d[a-z]")  # "CS50", not "4-day"
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*(?:[•◦▪*–-]\s+)?|[\"“(]\s*)$")


def names(text: str) -> set[str]:
    """The names `text` uses, lower-cased: a word capitalised where a sentence does not start
    ("Harvard", "Cursor"), or one spelled like a name anywhere ("CS50", "TensorFlow", "MLOps"),
    less short acronyms ("ML", "PM's", "CS/ML"), months and days. "Google's" gives "google".
    Each part of a hyphenated word is judged on its own: "ex-ML-engineer" names nobody (read
    whole, its inner capitals made "ex" a name that no passage has, and a right answer quoting
    the question's "ex-ML-engineer" was refused: blind6 h18), and "ex-Google" names Google."""
    found = set()
    for m in _TOKEN.finditer(text):
        word = _POSSESSIVE.sub("", m.group(0))
        at_start = bool(_SENTENCE_START.search(text[: m.start()]))
        for i, part in enumerate(word.split("-")):
            part = _POSSESSIVE.sub("", part)
            if not part or _ACRONYM.fullmatch(part):
                continue
            inner_caps = any(c.isupper() for c in part[1:])
            capitalised = part[0].isupper() and not (i == 0 and at_start)
            if inner_caps or capitalised or _LETTER_DIGIT.search(part.lower()):
                key = (_WORD.findall(part.lower()) or [""])[0]
                if key and key not in _COMMON_NAMES:
                    found.add(key)
    return found


def names_in(asked: set[str], words: set[str]) -> bool:
    """Every name of `asked` is among `words`, spelled the same or, for a name of 8 letters or
    more without digits, one typo away: the technical-PM article spells Codecademy
    "CodeAcademy", and a reader asking about "Codecademy" had the right answer refused (blind3
    d07). Short names stay exact ("Gavish" is one letter from "lavish"), as do "CS50"-like ones."""
    return all(name in words or (len(name) >= 8 and name.isalpha()
                                 and any(_one_edit(name, w) for w in words if abs(len(w) - len(name)) <= 1))
               for name in asked)


def _one_edit(a: str, b: str) -> bool:
    """`a` and `b` differ by at most one inserted, deleted, replaced or swapped letter."""
    if a == b:
        return True
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    return a[i + 1:] == b[i + 1:] or (a[i + 2:] == b[i + 2:] and a[i:i + 2] == b[i:i + 2][::-1])


def plain_words(text: str) -> set[str]:
    """`text`'s words, lower-cased and unstemmed: what `names` are looked up in."""
    return set(_WORD.findall(text.lower()))
