"""Parts of an answer sentence that can be checked on their own.

The verifier (`rag.citations`) scores a sentence against the passages as a whole, and two
kinds of sentence fail that although what they claim is in the passages: a claim followed by
the model's own gloss ("The churn model provides a probability of customer churn, which can
help the business make decisions …", dev q17), and a comparison whose two sides each come from
another article ("Gavish's advice emphasizes …, while Hope's focuses on …"). This module only
finds those parts; which passages support them, and what is shown, is `rag.citations`'.
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
