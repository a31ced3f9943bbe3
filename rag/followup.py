"""Turn a follow-up question into a standalone one before retrieval.

"And how long did that take?" retrieves nothing useful on its own. When there is chat
history and the question leans on it (pronouns, "and ...", "what about ..."), the LLM
rewrites it from the last turns; a question that stands on its own is left alone, so the
common case costs no extra LLM call. Retrieval and answering are left to `rag.assistant`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)

REWRITE_SYSTEM = (
    "You rewrite a follow-up question into one standalone question, using the conversation"
    " only to resolve what words like 'it', 'that' or 'they' refer to. Reply with the"
    " rewritten question only, nothing else."
)

_REFERRING = re.compile(
    r"\b(it|its|that|this|those|these|they|them|their|he|she|him|her|his|there|then|such|same|"
    r"above|previous|former|latter|one)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|but|also|so|what about|how about|why|how come|then|or)\b", re.IGNORECASE)

Turn = tuple[str, str]  # (question, answer)


def needs_rewrite(question: str, history: Sequence[Turn] | None) -> bool:
    """Does the question lean on the conversation so far?"""
    if not history:
        return False
    words = re.findall(r"\w+", question)
    return bool(_REFERRING.search(question) or _CONTINUATION.match(question) or len(words) <= 3)


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


def rewrite(question: str, history: Sequence[Turn], llm: BaseChatModel, max_turns: int = 2) -> str:
    """Standalone version of `question`; falls back to prefixing the last question."""
    recent = list(history)[-max_turns:]
    convo = "\n".join(f"User: {q}\nAssistant: {_short(a)}" for q, a in recent)
    messages = [("system", REWRITE_SYSTEM),
                ("human", f"Conversation:\n{convo}\n\nFollow-up question: {question}\n\nStandalone question:")]
    try:
        text = "".join(str(c.content) for c in llm.stream(messages, max_tokens=48)).strip()
    except Exception as exc:  # a failed rewrite must not fail the question
        log.warning("follow-up rewrite failed (%s); using the previous question as context", exc)
        text = ""
    text = text.splitlines()[0].strip().strip('"“”') if text else ""
    if len(text) < 5 or len(text) > 300:
        return f"{recent[-1][0]} {question}"
    return text


def _short(answer: str, limit: int = 300) -> str:
    answer = re.sub(r"\s*\[\d+\]", "", answer)
    return answer if len(answer) <= limit else answer[:limit].rsplit(" ", 1)[0] + " …"
