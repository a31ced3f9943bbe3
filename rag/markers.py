"""Citation markers in a model's reply: which passages each sentence cites, and markers as names.

The model writes "[n]" after a claim, but also glues markers after a full stop, opens a line
with one, lists them as items ("6 parts: [1], [2], and [3]") or uses one as the name of an
article ("read [2]"). `split_answer` turns a reply into sentences without markers, each with
the passage numbers it cited; `name_cited_articles` puts an article's title in front of a
marker used as a noun, so the sentence still says something once markers are stripped;
`opens_with_markers_as_subject` finds a reply whose opening claim has only markers for its
subject; `without_markers` blanks them out; `repeat_start` finds where a reply starts to loop and
`finished_sentences` where a stopped one last finished a sentence. Whether
a passage supports a sentence is `rag.citations`'s question; the prompt's numbering is
`rag.prompting`'s.
"""

from __future__ import annotations

import re

from rag.passages import Passage, sentence_spans
from rag.prompting import asks_which_article

_MARK = r"\[\d+(?:\s*,\s*\d+)*\]"  # "[2]" or "[2, 3]"
_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")  # the same, its numbers captured
_GLUED = re.compile(rf"([.!?])((?:[ \t]*{_MARK})+)(?=\s|$)")
# "6 parts: [1], [2], and [3]": markers used as the items of a list (the model does this when a
# passage is a table of contents). Stripped one by one they would leave "6 parts:,, and.".
_AND = r"\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+|&\s*)"  # what joins markers in a list: ", ", " and ", " & "
_MARKER_LIST = re.compile(rf"\s*:?\s*(\[\d+\](?:{_AND}\[\d+\])+)")
# "B] AI algorithms ...": a list label whose opening bracket the model dropped (dev q18's retry).
_STRAY_LABEL = re.compile(r"^[A-Za-z0-9]{1,2}\]\s+")
# "(see [2])" without its marker: the empty parentheses it would leave in the sentence.
_EMPTY_PARENS = re.compile(r"\s*\((?:see|cf\.?|source:?)?\s*\)", re.IGNORECASE)
_LEADING_MARKERS = re.compile(rf"(?:\s*{_MARK})+")
# "The passage from [2] states that having a DS background helps" (blind3 d12, d17): a marker
# named as the source of a claim. Stripped, it left "The passage from states that ...". The
# frame says only where the claim is from, which the citation shows: the claim is kept, cited.
_PASSAGE = r"(?:the\s+|this\s+)?(?:passage|article|post|text|source)\s+(?:from\s+|in\s+)?"
_SOURCE_SAYS_THAT = re.compile(
    rf"^(?:{_PASSAGE}({_MARK})(?:\s+(?:also|further|then))?\s+(?:states?|says?|mentions?|suggests?|notes?|"
    rf"explains?|argues?|adds?|points\s+out|highlights?|emphasi[sz]es?|shows?|stresses)(?:\s+by\s+stating)?"
    rf"\s+that|according\s+to\s+({_MARK})\s*,)\s+(?=\w)", re.IGNORECASE)
# "The passage from [2] emphasizes the importance of ...": no "that" to cut at, so the source
# is called "the article"; the marker still cites it.
_SOURCE_FROM = re.compile(rf"\b(?:the\s+|this\s+)?(?:passage|article|post|text|source)\s+from\s+({_MARK})",
                          re.IGNORECASE)
# Shorter sentences ("Yes.", a list label) may well come twice without a loop.
_LOOP_MIN_WORDS = 4


def split_answer(answer: str) -> list[tuple[str, list[int]]]:
    """Answer sentences without their markers, each with the numbers it cited."""
    out: list[tuple[str, list[int]]] = []
    answer = _MARKER_LIST.sub(lambda m: " [" + ",".join(re.findall(r"\d+", m.group(1))) + "]", answer)
    # "matters.[1] Next": move markers glued after a full stop in front of it, so the sentence
    # split sees "matters [1]. Next" and each sentence keeps its own markers.
    answer = _GLUED.sub(lambda m: m.group(2) + m.group(1), answer)
    for s, e in sentence_spans(answer):
        sentence = answer[s:e]
        # "... stale. [2] Next sentence": a marker opening a sentence belongs to the one before.
        lead = _LEADING_MARKERS.match(sentence)
        if lead and out:
            out[-1][1].extend(int(n) for n in re.findall(r"\d+", lead.group(0)))
            sentence = sentence[lead.end():]
        sentence = _without_source_frame(sentence)
        cited = [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\s*,\s*", m.group(1))]
        clean = _STRAY_LABEL.sub("", _EMPTY_PARENS.sub("", _MARKER.sub("", sentence)).strip())
        if re.fullmatch(r"[\W\d]*", clean):  # a stray marker on its own line
            if out and cited:
                out[-1][1].extend(cited)
            continue
        out.append((clean, cited))
    return out


def _without_source_frame(sentence: str) -> str:
    """"The passage from [2] states that X" as "X [2]"; "The passage from [2] shows Y" as "The
    article [2] shows Y"."""
    frame = _SOURCE_SAYS_THAT.match(sentence)
    if frame:
        rest = sentence[frame.end():]
        sentence = rest[:1].upper() + rest[1:] + " " + (frame.group(1) or frame.group(2))
    return _SOURCE_FROM.sub(lambda m: ("The" if m.group(0)[0].isupper() else "the") + " article " + m.group(1),
                            sentence)


# A marker standing for an article rather than citing a sentence: opening the answer, a line or
# a sentence ("[2] covers ..."), or after a word that takes an object ("read [2]", "in [1] and [3]").
_MARKER_AS_NOUN = re.compile(
    r"(^|[.!?:]\s+|\n|\b(?:read|see|check|try|in|from|and|or|is|are|titled|called)\s+|,\s+)\[(\d+)\]",
    re.IGNORECASE | re.MULTILINE)


def name_cited_articles(answer: str, passages: list[Passage], question: str) -> str:
    """For a question that asks which article to read, each marker used as a noun gets its
    article's title in front: "[2] covers how to become an AI/ML PM" becomes "“Pathways to
    Becoming an AI/ML Product Manager” [2] covers ...". Stripped of its markers, the sentence
    would say nothing ("covers how to become an AI/ML PM", the question's own words)."""
    if not asks_which_article(question):
        return answer
    titles = {p.n: p.hit.title.strip().rstrip(".") for p in passages}

    def named(m: re.Match[str]) -> str:
        title = titles.get(int(m.group(2)))
        before = answer[max(0, m.start(2) - len(title or "") - 3):m.start(2)]
        if not title or title in before:  # already named: "“Pathways ...” [2]"
            return m.group(0)
        # Opening the answer, a sentence or a line, a marker is the subject only before a
        # lowercase word ("[2] covers"), or alone at the very start ("[1] and [3]" is the same
        # rule). "... stale. [2] Next sentence" cites the sentence before, and "[1] Technically
        # is a knowledge base ..." the one after ("Which blogs does the technical PM
        # recommend?": named, it read "“Becoming a more technical …” Technically is ...").
        opens = not re.search(r"[a-z,]", m.group(1), re.IGNORECASE)
        alone = m.start() == 0 and not re.match(r"\s*[A-Za-z0-9]", answer[m.end():])
        if opens and not alone and not re.match(r"\s+[a-z]", answer[m.end():]):
            return m.group(0)
        return f"{m.group(1)}“{title}” [{m.group(2)}]"

    return _MARKER_AS_NOUN.sub(named, answer)


# "[1] and [2] were the courses that the technical PM author found most useful.": a reply that
# opens with markers standing for what it names. Markers are stripped before a sentence is
# checked, so it became "were the courses that ... found most useful. [1]", the question's own
# words, which the verifier found "supported" by "These aren't the only courses I have done."
# and preferred to the other reading's "CS50: Introduction to Computer Science by Harvard"
# (an exploratory chat, stop 47). Nothing opens a reply for them to cite, so they are the subject.
_OPENING_MARKER_SUBJECT = re.compile(rf"\s*{_MARK}(?:{_AND}{_MARK})*\s+[a-z]")


def opens_with_markers_as_subject(reply: str) -> bool:
    """Does `reply` open with markers followed by a lowercase word ("[1] and [2] were ...",
    "[2] covers ...")? Stripped of its markers, such a sentence has no subject and says
    nothing of its own; a marker before a capital ("[1] CS50: ...") is a stray citation."""
    return bool(_OPENING_MARKER_SUBJECT.match(reply))


def without_markers(text: str) -> str:
    """`text` with its [n] / [n, m] citation markers blanked out."""
    return _MARKER.sub(" ", text)


def repeat_start(reply: str) -> int | None:
    """Where `reply` starts to say again, word for word, a sentence it has already said, or
    None. Greedy decoding is deterministic, so a small model that repeats a whole sentence is
    in a loop: asked "What's the difference between a regular PM and an ML PM?", the bundled
    model wrote "Regular PMs need to understand the problem, while ML PMs need to consider ..."
    over and over until its token limit. Only complete sentences count (the last may still be growing), markers and
    case are ignored, and a marker opening the repeat is the previous sentence's, so the
    position returned keeps it."""
    spans = sentence_spans(reply)
    seen: set[str] = set()
    for s, e in spans[:-1]:
        sentence = reply[s:e]
        words = re.findall(r"\w+", _MARKER.sub(" ", sentence).lower())
        if len(words) < _LOOP_MIN_WORDS:
            continue
        key = " ".join(words)
        if key in seen:
            lead = _LEADING_MARKERS.match(sentence)
            return s + (lead.end() if lead else 0)
        seen.add(key)
    return None


# Where a sentence of a reply is finished: its full stop (or ? or !), then any markers glued
# after it, or a marker that ends it without one ("… in two areas [1]"), then closing quotes.
_FINISHED = re.compile(rf"(?:[.!?](?:[ \t]*{_MARK})*|{_MARK})[\"'”’)]*(?=\s|$)")


def finished_sentences(reply: str) -> str:
    """`reply` up to the end of its last finished sentence: what stands of a reply the
    reader stopped mid-sentence ("The author took a course on" says nothing checkable)."""
    ends = [m.end() for m in _FINISHED.finditer(reply)]
    return reply[: ends[-1]] if ends else ""
