"""A long message's own question: the sentences that ask, apart from the background.

A PM often writes a paragraph about their team and worries, then asks. Passed whole, such a
message fails twice. The embedder reads only its first 256 word pieces (all-MiniLM-L6-v2), so
retrieval sees the background and never the question at its end; and the 1.5B model, given
456 words of someone's situation over four passages, said NOT COVERED on both readings and
both retries: refused after 53 s, its first token at 15 s. Its last sentence alone ("… what
should I focus on learning first, and how should I work with the data scientists …?") was
answered from the right article in 15 s (docs/answers.md, stop 43).

So a message longer than `LONG_WORDS` is asked as its asking sentences: the last sentences
with a question mark (up to `MAX_ASK_WORDS`), or its last sentence when none has one ("Please
tell me which course to take."). A lead-in that points back at the background ("Given all of
that, …") is dropped, since nothing after it says what "that" was. The articles speak in
general, not about one reader's team, so the background would add no evidence; the page shows
what was asked ("Understood as: …"), and `note` says what was left out. Rewriting a follow-up
from the chat is `rag.followup`'s; this comes before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.passages import sentence_spans

# Longer than any question of the eval sets (35 words at most): those have a sentence or two of
# context before the question and are answered whole.
LONG_WORDS = 60
# A run of asking sentences stops growing at this length: what is asked, not the story.
MAX_ASK_WORDS = 60

_LEAD_IN = re.compile(
    r"^(?:(?:so|and|but|ok(?:ay)?|well|anyway)\b,?\s+)?"
    r"(?:(?:given|with|considering|in light of|based on)\s+(?:all\s+)?(?:of\s+)?"
    r"(?:that|this|the above|everything(?:\s+above)?)(?:\s+in mind)?|so|anyway)\s*[,:\-—]\s*",
    re.IGNORECASE)


@dataclass(frozen=True)
class OwnQuestion:
    question: str  # what retrieval and the model are given
    note: str = ""  # what was left out, for the debug view and the API; "" when nothing was


def own_question(message: str) -> OwnQuestion:
    """The question to answer in `message`: all of it when it is short, else its asking
    sentences without a lead-in that points back at the rest."""
    words = len(message.split())
    if words <= LONG_WORDS:
        return OwnQuestion(message)
    sentences = [message[s:e] for s, e in sentence_spans(message)]
    asking = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?")]
    last = asking[-1] if asking else len(sentences) - 1
    picked = [last]
    # Questions asked together ("What should I learn? And how do I work with them?") stay
    # together, back to the first sentence that does not ask.
    while picked[0] - 1 in asking and _words(sentences, [picked[0] - 1, *picked]) <= MAX_ASK_WORDS:
        picked.insert(0, picked[0] - 1)
    asked = " ".join(sentences[i].strip() for i in picked)
    asked = _without_lead_in(asked)
    if len(asked.split()) < 3:  # "Why?": too little to stand alone; the message as typed
        return OwnQuestion(message)
    left = words - len(asked.split())
    note = (f"a long message ({words} words): its question was asked as above; the {left} words"
            " of background are not searched or read, since the articles do not speak to one"
            " reader's situation")
    return OwnQuestion(asked, note)


def _words(sentences: list[str], picked: list[int]) -> int:
    return sum(len(sentences[i].split()) for i in picked)


def _without_lead_in(text: str) -> str:
    rest = _LEAD_IN.sub("", text, count=1)
    if rest == text or not rest:
        return text
    return rest[0].upper() + rest[1:]
