"""Turn a follow-up question into a standalone one before retrieval.

"And how long did that take?" retrieves nothing useful on its own. When there is chat
history and the question leans on it (pronouns, "and ...", "what about ..."), the LLM
rewrites it from the last turns; a question that stands on its own is left alone, so the
common case costs no extra LLM call. The small model's rewrite is checked before it is
used: it must keep the follow-up's own words and add only words from the conversation.
When it fails, or leaves a pronoun in place, each pronoun is replaced by what the model says
it refers to, or the follow-up is asked as it is; the `Rewrite` says which, and why.
Retrieval and answering are left to `rag.assistant`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from rag.claims import content_words, words_of

log = logging.getLogger(__name__)

REWRITE_SYSTEM = (
    "You rewrite a follow-up question into one standalone question, using the conversation"
    " only to resolve what words like 'it', 'that' or 'they' refer to. Reply with the"
    " rewritten question only, nothing else."
)
# Checks on the small model's rewrite (`is_faithful`): it may lose one word of the
# follow-up's own ("the first one" -> "CS50"), and add one word found nowhere in the
# conversation ("examples", "used": a fragment needs a verb).
_MAX_LOST_WORDS = 1
# Verbs that carry little of a question's meaning, which a faithful rewrite may say otherwise:
# "and how long did that take?" -> "How long did the technical-PM author spend learning to
# code?" lost "take", half of the follow-up's own words, and the rewrite was not used, so the
# question was refused (an exploratory test of the page, docs/answers.md stop 42). Stemmed.
_LIGHT_VERBS = frozenset({"take", "took", "taken", "get", "got", "go", "went", "goe", "gone", "make", "made",
                          "mean", "meant", "happen"})
_MAX_FOREIGN_WORDS = 1
# When the rewrite is rejected or leaves a pronoun in place, the model is asked the smaller
# question of who a pronoun refers to, and the answer is put in its place: the model names
# the people right more often than it rewrites a whole question ("them" -> "The data
# scientists", where its rewrite kept "them"). A referent must be a short phrase whose words
# are all the conversation's (it also answered with whole sentences, or "The word "that"
# refers to ..."). An "it" is looked up too ("finish it" -> "the NLP data science course"), but
# its referent may not name a person: asked what "it" is in "How much does it cost per month?"
# after the IDE question, the model said "The technical PM guy", and the assistant answered
# "The technical PM guy costs $8 per month. [1]" (stop 23). An "it" that points at nothing
# ("is it worth", "does it take", "it's") is left alone. "At most five words": asked what "that"
# is after an answer naming three courses, the model began to list them and ran out of tokens.
REFERENT_SYSTEM = ("You find what a word in a question refers to. Reply with a short phrase of at most"
                   " five words copied from the conversation, nothing else.")
_POINTERS = re.compile(r"\b(them|they|he|him|his|she|her)\b", re.IGNORECASE)
# "those" and "these" standing for a noun, not before one: "Which of those matter most?" after
# an answer listing skills. The bundled model rewrote it "What are the most important skills
# for a technical PM?", which loses the follow-up's one word ("matter") and was rightly not
# used; asked as typed, it was refused (stop 34). "Which of those skills ..." keeps its noun.
_DEMONSTRATIVE = re.compile(r"(?<=\bof )(?:those|these)\b|\b(?:those|these)(?=\s*(?:[?.!,;]|$))",
                            re.IGNORECASE)
# "that" or "this" standing for a thing, not joining a clause ("says that models drift") or
# before its noun ("that course"): at the end of the question, or before a word that can only
# follow a pronoun there ("How long did that take?", "to understand that better?"). Asked as
# typed, "What math should I learn to understand that better?" is refused (the follow-up set's
# u12). Such a "that" is looked up before the model is asked for a rewrite: after "Which courses
# did the technical PM author find most useful?", the model rewrote "and how long did that
# take?" as "How long did the technical PM author find the courses ... most useful?" and as
# "How long did the technical PM author find it useful to take CS50 and ...?", the previous
# question's "find useful" spliced in (an exploratory chat, stop 47), which the word checks
# cannot see; "that" looked up gave "How long did the courses take?", answered "18 months".
_THAT = re.compile(r"\b(?:that|this)\b(?=\s*(?:[?.!,;]|$)|\s+(?:better|more|less|well|again|too|also|now|then"
                   r"|for|in|on|to|with|about|at|from|is|was|will|would|takes?|took|costs?|means?|works?"
                   r"|helps?|matters?|lasts?|appl(?:y|ies)|involves?|requires?|needs?|happens?|compares?"
                   r"|differs?|looks?)\b)", re.IGNORECASE)
_IT = re.compile(r"\bit\b(?!\s*['’]s\b|\s+(?:is|was|takes?|took|worth|matters?)\b)", re.IGNORECASE)
# Pronouns replaced where their own pattern finds them, not wherever the word is (an "it" or a
# "that" that points at nothing stays); and those standing for a thing, never for a person.
_POINTER_PATTERNS = {"it": _IT, "those": _DEMONSTRATIVE, "these": _DEMONSTRATIVE, "that": _THAT, "this": _THAT}
_THING_POINTERS = frozenset({"it", "that", "this"})
# Words that make a referent a person (pronouns for people are refused by `_POINTERS` already).
_PEOPLE = frozenset({"guy", "author", "person", "people", "man", "woman", "writer", "blogger", "pm", "pms",
                     "manager", "managers", "scientist", "scientists", "engineer", "engineers", "i", "me",
                     "you", "we"})
_MAX_REFERENT_WORDS = 6
# "The skills mentioned in the previous question": where the referent was said is no part of it.
_WHERE_SAID = re.compile(r"\s+(?:(?:that\s+(?:were|was|are|is)\s+)?(?:mentioned|listed|discussed|described|named)"
                         r"(?:\s+(?:in|by|from)\s+the\s+\w+(?:\s+\w+)?)?"
                         r"|(?:in|from)\s+the\s+(?:previous|last|above|earlier)\s+\w+)\s*$", re.IGNORECASE)
_OWN_ANTECEDENT_WORDS = 3
_LEADING_LINK = re.compile(r"^\s*(and|but|also|so|or)\b[\s,]*", re.IGNORECASE)

_REFERRING = re.compile(
    r"\b(it|its|that|this|those|these|they|them|their|he|she|him|her|his|there|then|such|same|"
    r"above|previous|former|latter|one)\b",
    re.IGNORECASE,
)
# "each" or "both" standing for the things just listed: "How long does each take?" after an
# answer naming two courses was asked as typed and refused (stop 35). Before a noun ("each
# course", "both of the courses") it stands alone; "Are both free?" leans on the chat (a
# rewrite of "Are both courses free?" costs time, not the answer).
_BARE_QUANTIFIER = re.compile(
    r"\b(?:each|both|either)(?=\s*(?:[?.!,;]|$)|\s+(?:takes?|costs?|lasts?|requires?|needs?|means?|covers?"
    r"|does|do|has|have|is|are|offers?|teach(?:es)?|works?|helps?|matters?|appl(?:y|ies)|differs?)\b)"
    r"|\b(?:is|are|was|were)\s+(?:both|either)\b(?!\s+of\b)",
    re.IGNORECASE)
_CONTINUATION = re.compile(r"^\s*(and|but|also|so|what about|how about|why|how come|then|or)\b", re.IGNORECASE)

Turn = tuple[str, str]  # (question, answer)


@dataclass(frozen=True)
class Rewrite:
    """What a follow-up became before retrieval: `question` is what retrieval and the answer
    use; `proposed` is the model's rewrite when it was not used as it is, and `note` says why
    and what was done instead, for the page's debug view and the API."""

    question: str
    proposed: str = ""
    note: str = ""


def needs_rewrite(question: str, history: Sequence[Turn] | None) -> bool:
    """Does the question lean on the conversation so far? Not for a possessive that has its
    noun in the question (`_points_inside`)."""
    if not history:
        return False
    words = re.findall(r"\w+", question)
    if _CONTINUATION.match(question) or len(words) <= 3:
        return True
    return (any(not _points_inside(question, m) for m in _REFERRING.finditer(question))
            or bool(_BARE_QUANTIFIER.search(question)))


def _points_inside(question: str, match: re.Match[str]) -> bool:
    """A possessive "its" or "their" after at least 3 content words most likely means a noun
    among them: "What's the wrong way for a company to treat its data science team?" stands
    alone, and its rewrite cost ~2 s and risked a rewrite into the previous question."""
    return (match.group(0).lower() in ("its", "their")
            and len(content_words(question[:match.start()])) >= _OWN_ANTECEDENT_WORDS)


def normalise_history(history: Sequence[object] | None) -> list[Turn]:
    """Accept (q, a) pairs, or LangChain-style message dicts / messages, as history."""
    if not history:
        return []
    turns: list[Turn] = []
    pending_q = ""
    for item in history:
        if isinstance(item, tuple | list) and len(item) == 2:
            turns.append((str(item[0]), str(item[1])))
            continue
        role = getattr(item, "type", None) or (item.get("role") if isinstance(item, dict) else None)
        content = getattr(item, "content", None) or (item.get("content") if isinstance(item, dict) else "")
        if role in ("human", "user"):
            pending_q = str(content)
        elif role in ("ai", "assistant") and pending_q:
            turns.append((pending_q, str(content)))
            pending_q = ""
    return turns


def rewrite(question: str, history: Sequence[Turn], llm: BaseChatModel, max_turns: int = 2) -> Rewrite:
    """Standalone version of `question`: the model's rewrite if it passes `is_faithful` and
    resolves the follow-up's pronouns, else the follow-up with each pronoun replaced by its
    referent (`with_referents`), else the follow-up as it is. A follow-up with a "that" or
    "this" standing for a thing has its referents looked up first (`_THAT`): on the follow-up
    set that changed no question asked, and it mended one the rewrite got wrong. Not the
    previous question glued on: on the follow-up QA set that pulled retrieval back to the
    earlier topic (gold evidence in the passages for 6 of 14 follow-ups, against 10 of 14 for
    the bare follow-up; docs/answers.md)."""
    recent = list(history)[-max_turns:]
    looked_up = bool(_THAT.search(question))
    if looked_up:
        resolved = with_referents(question, recent, llm)
        if resolved:
            return Rewrite(resolved)
    messages = [("system", REWRITE_SYSTEM), ("human", f"Conversation:\n{_conversation(recent)}\n\n"
                                                      f"Follow-up question: {question}\n\nStandalone question:")]
    text = _first_line(llm, messages, 48)
    if text is None:
        return Rewrite(question, note="the model could not rewrite it; asked as typed")
    text = text.strip('"“”')
    flaw = unfaithful_because(text, question, recent)
    if not flaw and not _left_in_place(text, question):
        return Rewrite(text)
    resolved = None if looked_up else with_referents(question, recent, llm)
    if resolved:
        log.info("follow-up rewrite %r not used; pronouns replaced: %r", text, resolved)
        why = flaw or "it leaves " + ", ".join(f'"{w}"' for w in _kept_pointers(text, question)) + " as they are"
        return Rewrite(resolved, text, f"{why}; the pronouns were replaced by what they refer to")
    if flaw:
        log.info("follow-up rewrite %r rejected; asking %r as it is", text, question)
        return Rewrite(question, text, f"{flaw}; asked as typed")
    return Rewrite(text)


def with_referents(question: str, history: Sequence[Turn], llm: BaseChatModel) -> str | None:
    """`question` with each pronoun replaced by what the model says it refers to, or None if
    no referent passes: a phrase of at most 6 words, all of them from the conversation, not
    containing a pronoun ("his" -> "His team" would say nothing), and for "it" naming no
    person."""
    pointers = list(dict.fromkeys(w.lower() for w in _POINTERS.findall(question)))
    pointers += list(dict.fromkeys(m.group(0).lower() for m in _DEMONSTRATIVE.finditer(question)))
    pointers += ["it"] if _IT.search(question) else []
    pointers += list(dict.fromkeys(m.group(0).lower() for m in _THAT.finditer(question)))
    if not pointers:
        return None
    convo = _conversation(history)
    known = _chat_words(history)
    resolved, replaced = question, False
    for word in pointers:
        messages = [("system", REFERENT_SYSTEM),
                    ("human", f"Conversation:\n{convo}\n\nNext question: {question}\n\n"
                              f'In the next question, what does "{word}" refer to?')]
        reply = _first_line(llm, messages, 16)
        if reply is None:
            return None
        phrase = _WHERE_SAID.sub("", reply.strip('."“”'))
        words = content_words(phrase)
        if (not words or not words <= known or len(phrase.split()) > _MAX_REFERENT_WORDS
                or _POINTERS.search(phrase) or _IT.search(phrase)
                or (word in _THING_POINTERS and _PEOPLE & set(re.findall(r"\w+", phrase.lower())))):
            continue
        phrase = phrase[0].lower() + phrase[1:] if phrase[:4] in ("The ", "A ", "An ") else phrase
        pattern = _POINTER_PATTERNS.get(word) or re.compile(rf"\b{word}\b", re.IGNORECASE)
        resolved = pattern.sub(lambda m, p=phrase: p + _possessive(m), resolved)
        replaced = True
    if not replaced:
        return None
    resolved = _LEADING_LINK.sub("", resolved)
    return resolved[0].upper() + resolved[1:]


def _possessive(match: re.Match[str]) -> str:
    """"'s" where the pronoun owns what follows: always for "his"; for "her" when a content
    word or "own" follows ("her team", "her own course"), not before a stopword ("ask her
    about it", "give her the brief")."""
    word = match.group(0).lower()
    following = re.match(r"\s+([A-Za-z]+)", match.string[match.end():])
    if word == "his" or (word == "her" and following
                         and (following.group(1).lower() == "own" or content_words(following.group(1)))):
        return "'s"
    return ""


def _kept_pointers(rewritten: str, question: str) -> list[str]:
    kept = {w.lower() for w in _POINTERS.findall(rewritten)}
    return [w for w in dict.fromkeys(w.lower() for w in _POINTERS.findall(question)) if w in kept]


def _left_in_place(rewritten: str, question: str) -> bool:
    """Does the rewrite keep a pronoun of the follow-up's and add no word that could be its
    referent ("What should I hand them ...")? A kept "his" next to a named referent ("How long
    did the technical PM guy take his NLP course?") is resolved."""
    return bool(_kept_pointers(rewritten, question)) and not content_words(rewritten) - content_words(question)


def is_faithful(rewritten: str, question: str, history: Sequence[Turn]) -> bool:
    """Does the rewrite keep the follow-up's own words and add at most one word from nowhere
    (`unfaithful_because` says which words when it does not)?"""
    return not unfaithful_because(rewritten, question, history)


def unfaithful_because(rewritten: str, question: str, history: Sequence[Turn]) -> str:
    """Why the rewrite may not be used, or "" if it may: it must keep the follow-up's own words
    (all but words like "it" that point back, less one) and add at most one word that is in
    neither the follow-up nor the conversation. The first catches the previous question asked
    again ("How much does it cost per month?" -> "What does the technical PM guy use as their
    IDE?") and a question made over ("What gave him the time to finish it?" -> "How did the
    author manage to complete the course in 18 months?"); the second a detail made up."""
    if not 5 <= len(rewritten) <= 300:
        return "it is not a question of a usual length"
    new = content_words(rewritten)
    own = content_words(_REFERRING.sub(" ", _CONTINUATION.sub(" ", question))) - _LIGHT_VERBS
    lost = own - new
    if len(lost) > _MAX_LOST_WORDS or 2 * len(lost) >= max(len(own), 1):
        return "it drops words of the question: " + ", ".join(f'"{w}"' for w in words_of(question, lost))
    foreign = new - content_words(question) - _chat_words(history)
    if len(foreign) > _MAX_FOREIGN_WORDS:
        return ("it adds words that are in neither the question nor the chat: "
                + ", ".join(f'"{w}"' for w in words_of(rewritten, foreign)))
    return ""


def _first_line(llm: BaseChatModel, messages: list[tuple[str, str]], max_tokens: int) -> str | None:
    """The first line of the model's reply, or None if the model failed: a failed rewrite
    must not fail the question, which is then asked as it is."""
    try:
        text = "".join(str(c.content) for c in llm.stream(messages, max_tokens=max_tokens)).strip()
    except Exception as exc:
        log.warning("follow-up rewrite failed (%s); asking the follow-up as it is", exc)
        return None
    return text.splitlines()[0].strip() if text else ""


def _chat_words(history: Sequence[Turn]) -> set[str]:
    """The content words of the conversation: the only source a rewrite or referent may draw on."""
    return content_words(" ".join(f"{q} {a}" for q, a in history))


def _conversation(history: Sequence[Turn]) -> str:
    return "\n".join(f"User: {q}\nAssistant: {_short(a)}" for q, a in history)


def _short(answer: str, limit: int = 300) -> str:
    answer = re.sub(r"\s*\[\d+\]", "", answer)
    return answer if len(answer) <= limit else answer[:limit].rsplit(" ", 1)[0] + " …"
