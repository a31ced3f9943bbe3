"""Keep the evaluated state of each system prompt, to put back after another prompt evicted it.

llama.cpp reuses the longest common token prefix of the previous prompt and the next one, so
consecutive answers pay for their 95-token system prompt once. A follow-up breaks that: the
rewrite (`rag.followup`) has its own system prompt, so the answer after it evaluates its
system prompt again, ~1 s before the first token on these 2 cores. This module keeps, per
system prompt, a copy of the model's context as the last call with that system prompt left
it, and loads it back before the next call with the same system prompt whenever a call with
another one came in between; llama.cpp then keeps the common prefix and evaluates the rest.

What a kept state costs: the context's KV cells (28.7 KB a token for the bundled 1.5B model,
19.5 MB after a 681-token call; keeping it takes 0.03 s, loading it back 0.03 s, or 0.4-0.7 s
the first time in a process, when llama-cpp-python first writes its whole logits buffer)
and none of the logits. llama-cpp-python's own
`LlamaRAMCache` keeps a copy of every row of logits too (291 MB a state, not counted by its
size limit; docs/answers.md, stop 23), and the logits of a restored prefix are never read:
the suffix is always evaluated afresh. Which prompts to send is left to the callers, loading
the model to `rag.generation`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class PromptStates:
    """Per system prompt, the model's state after the latest call that began with it.

    `before(llm, system)` runs before a call and `after(llm, system)` once it has finished;
    both under the caller's lock, as the state is the one model context.
    """

    def __init__(self, limit: int = 4) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self._states: OrderedDict[str, Any] = OrderedDict()
        self._current: str | None = None  # the system prompt the context now starts with
        self.restores = 0

    def before(self, llm: Any, system: str) -> bool:
        """Load the kept state for `system` if the context now starts with another system
        prompt. Returns whether a state was loaded."""
        current, self._current = self._current, system
        state = self._states.get(system)
        if state is None or current == system:
            return False
        llm.load_state(state)
        self._states.move_to_end(system)
        self.restores += 1
        log.debug("restored the evaluated system prompt (%d tokens kept)", state.n_tokens)
        return True

    def after(self, llm: Any, system: str) -> None:
        """Keep the context as this call left it, once per system prompt: the system prompt's
        tokens are the same in every later state, and only they are certain to be reused."""
        if system in self._states or llm.n_tokens == 0:
            return
        self._states[system] = _save_without_logits(llm)
        while len(self._states) > self.limit:
            self._states.popitem(last=False)


def _save_without_logits(llm: Any) -> Any:
    """`llm.save_state()` with a single zero row of logits. `save_state` copies a row of
    logits per evaluated token (296 MB after a 681-token call, 0.7 s the first time, on the
    query path), so it is called with `n_tokens` set to 1, which bounds that copy; the KV cells
    come from llama.cpp whatever `n_tokens` says. `Llama.load_state` broadcasts the one row
    over the restored rows, and none is sampled from: llama-cpp-python re-evaluates at least
    the last prompt token after a restore (`_requires_eval`)."""
    n_tokens = llm.n_tokens
    llm.n_tokens = 1
    try:
        state = llm.save_state()
    finally:
        llm.n_tokens = n_tokens
    state.n_tokens = n_tokens
    state.scores = np.zeros((1, state.scores.shape[1]), dtype=np.single)
    return state
