"""Start every prompt from the same evaluated system prompt, so an answer never depends on
the question asked before it.

llama.cpp reuses the longest token prefix the new prompt shares with the previous one and
evaluates only the rest. That saves the 95-token system prompt (~1 s on these 2 cores), but
the shared prefix also reaches into a passage when two questions retrieve it, and the same
tokens evaluated in other batches give slightly different numbers: greedy decoding then
flipped some answers between an answer and NOT COVERED depending on what was asked before
(fresh f04: refused asked first in a process, answered after f03; docs/answers.md, stop 36).
This module keeps, per system prompt, the model's state after evaluating that system prompt's
turn alone, and before each call cuts the context back to it (or loads it, when a call with
another system prompt came in between, as a follow-up's rewrite does). Every prompt is then
evaluated as "system turn, then the rest", whatever came before. A call that continues the
previous prompt (the retry after NOT COVERED shares its passages and question) keeps the
whole context: that reuse depends only on its own first call.

What a kept state costs: the context's KV cells for the system turn (28.7 KB a token for the
bundled 1.5B model, ~3 MB) and none of the logits, which llama-cpp-python's `save_state` would
copy a row of per token. Which prompts to send is left to the callers, loading the model to
`rag.generation`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Stands for the user's message when the chat template is rendered: what comes before it is
# the system turn every prompt with that system prompt starts with.
_MARK = "\ue000"


class PromptStates:
    """Per system prompt, the model's state after evaluating its turn alone.

    `before(llm, system)` runs before each call, under the caller's lock, as the state is the
    one model context.
    """

    def __init__(self, limit: int = 4) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self._states: OrderedDict[str, Any] = OrderedDict()
        self._current: str | None = None  # the system prompt the context now starts with
        self.restores = 0

    def before(self, llm: Any, system: str, *, continues: bool = False) -> bool:
        """Leave the context holding exactly `system`'s evaluated turn, or, when the call
        `continues` the previous one with the same system prompt, as it is. Returns whether a
        kept state was loaded (another system prompt came in between)."""
        if continues and self._current == system:
            return False
        current, self._current = self._current, system
        state = self._states.get(system)
        if state is None:
            tokens = system_turn_tokens(llm, system)
            llm.reset()
            if tokens:
                llm.eval(tokens)
                self._states[system] = _save_without_logits(llm)
                while len(self._states) > self.limit:
                    self._states.popitem(last=False)
            return False
        self._states.move_to_end(system)
        if current == system:
            # Every call with this system prompt started from its turn: cut back to it.
            llm.n_tokens = min(llm.n_tokens, state.n_tokens)
            return False
        llm.load_state(state)
        self.restores += 1
        log.debug("restored the evaluated system prompt (%d tokens)", state.n_tokens)
        return True


def system_turn_tokens(llm: Any, system: str) -> list[int]:
    """The tokens every prompt with `system` as its system message starts with, up to the
    user's message, rendered with the model's own chat template; [] when the model has none
    (the context is then evaluated afresh for every call)."""
    template = (getattr(llm, "metadata", None) or {}).get("tokenizer.chat_template")
    if not template:
        return []
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return llm._model.token_get_text(token) if token != -1 else ""

    formatter = Jinja2ChatFormatter(template=template, eos_token=text(llm.token_eos()),
                                    bos_token=text(llm.token_bos()))
    rendered = formatter(messages=[{"role": "system", "content": system}, {"role": "user", "content": _MARK}])
    head = rendered.prompt.split(_MARK)[0]
    return llm.tokenize(head.encode("utf-8"), add_bos=not rendered.added_special, special=True)


def _save_without_logits(llm: Any) -> Any:
    """`llm.save_state()` with a single zero row of logits. `save_state` copies a row of
    logits per evaluated token, so it is called with `n_tokens` set to 1, which bounds that
    copy; the KV cells come from llama.cpp whatever `n_tokens` says. `Llama.load_state`
    broadcasts the one row over the restored rows, and none is sampled from: llama-cpp-python
    re-evaluates at least the last prompt token after a restore (`_requires_eval`)."""
    n_tokens = llm.n_tokens
    llm.n_tokens = 1
    try:
        state = llm.save_state()
    finally:
        llm.n_tokens = n_tokens
    state.n_tokens = n_tokens
    state.scores = np.zeros((1, state.scores.shape[1]), dtype=np.single)
    return state
