"""Parts of an answer sentence that can be checked on their own.

The verifier (`rag.citations`) scores a sentence against the passages as a whole, and two
kinds of sentence fail that although what they claim is in the passages: a claim followed by
the model's own gloss ("The churn model provides a probability of customer churn, which can
help the business make decisions …", dev q17), and a comparison whose two sides each come from
another article ("Gavish's advice emphasizes …, while Hope's focuses on …"). A third kind
passes although part of it is invented: a list whose items are each a claim, where the items
the passages name carry the ones they do not. This module only finds those parts; which
passages support them, and what is shown, is `rag.citations`'.
"""

from __future__ import annotations

import re

# What the model adds after its claim, running to the end of the sentence: ", which can help
# ...", ", allowing ...". A clause closed by a later comma ("The model, which the DS team
# built, outputs ...") is inside the claim, not after it.
_GLOSS = re.compile(r",\s+(?:which|allowing|enabling|helping|so that|thereby|leading to|resulting in|ensuring)\b[^,;]*$",
                    re.IGNORECASE)
_MIN_CLAIM_WORDS = 5  # a shorter head ("The churn model") is a subject, not a claim


def claim_before_gloss(text: str) -> str:
    """`text` without a trailing gloss, as a sentence; "" when it has none, or too little is left."""
    m = _GLOSS.search(text)
    head = text[:m.start()].rstrip() if m else ""
    return head + "." if len(head.split()) >= _MIN_CLAIM_WORDS else ""


# The turn of a comparison: "X does this, while Y does that". Each side needs this many words
# ("Hope's focuses on hiring" is a claim; "while others don't" is not).
_MIN_SIDE_WORDS = 4
_CONTRAST = re.compile(r",?\s+(?:while|whereas)\s+|;\s+(?:while|whereas|but)\s+", re.IGNORECASE)


def contrasted(text: str) -> list[str]:
    """The two sides of a comparison sentence, each as a sentence; [] for any other sentence,
    or when a side is too short to claim anything."""
    parts = _CONTRAST.split(text.rstrip().rstrip("."), maxsplit=1)
    if len(parts) != 2 or any(len(p.split()) < _MIN_SIDE_WORDS for p in parts):
        return []
    return [parts[0].strip() + ".", parts[1].strip()[:1].upper() + parts[1].strip()[1:] + "."]


# A list's items: "X, Y, and Z" or "X, Y and Z", at least two items after the first. The first
# item cannot be told from the words leading to the list, unless the items all open with the
# same word ("they lack clear objectives, lack …, and lack …"). A longer "item" is a clause,
# and one opened by these words is no item either ("To date, they were too cheap to pay …,
# but they signed up …").
_MAX_ITEM_WORDS = 10
_NOT_AN_ITEM = re.compile(
    r"(?:but|which|who|while|whereas|so|because|although|though|since|if|when|where|as|such as|including"
    r"|like|e\.g\.|i\.e\.|for example|for instance|then|that|this|these|it|they|you|we|he|she)(?!\w)",
    re.IGNORECASE)  # not \b, which never follows the "." of "e.g." before a space
_LAST_ITEM = re.compile(r"\s+(?:and|or)\s+")


def listed_items(text: str) -> list[str]:
    """The items of the list a sentence ends with, when it is a list of at least three
    comma-separated items, its first item only when it can be told (see above); [] for any
    other sentence."""
    segments = [s.strip() for s in text.rstrip().rstrip(".!;").split(",")]
    if len(segments) < 3:
        return []
    last = segments[-1]
    joined = _LAST_ITEM.match(" " + last)
    if joined:  # ", and Z"
        tail = [last[joined.end() - 1:]]
    else:  # ", Y and Z": split at the last "and"/"or", the words as written on either side
        joins = list(_LAST_ITEM.finditer(last))
        if not joins:
            return []
        tail = [last[:joins[-1].start()], last[joins[-1].end():]]
    middle: list[str] = []
    for segment in reversed(segments[1:-1]):
        if not _is_item(segment):
            break  # the words leading to the list, and its first item
        middle.insert(0, segment)
    items = middle + tail
    if len(items) < 2 or not all(_is_item(i) for i in items):
        return []
    lead = segments[-2 - len(middle)]
    opener = {i.split()[0].lower() for i in items}
    if len(opener) == 1 and (at := lead.lower().rfind(" " + opener.pop() + " ")) >= 0:
        items.insert(0, lead[at + 1:])
    return items


def _is_item(segment: str) -> bool:
    # A comma inside brackets splits an aside, not the list: "some tooling work (e.g. …, …)".
    return (0 < len(segment.split()) <= _MAX_ITEM_WORDS and not _NOT_AN_ITEM.match(segment)
            and segment.count("(") == segment.count(")"))
