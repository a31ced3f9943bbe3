"""Keep the evaluated state of each system prompt, to put back after another prompt evicted it.

llama.cpp reuses the longest common token prefix of the previous prompt and the next one, so
consecutive answers pay for their 95-token system prompt once. A follow-up breaks that: the
rewrite (`rag.followup`) has its own system prompt, so the answer after it evaluates its
system prompt again, ~1 s before the first token on these 2 cores. This module keeps, per
system prompt, a copy of the model's context as the last call with that system prompt left
it, and loads it back before the next call with the same system prompt whenever a call with
another one came in between; llama.cpp then keeps the common prefix and evaluates the rest.

What a kept state costs: the context's KV cells (28.7 KB a token for the bundled 1.5B model,
19.5 MB after a 681-token call; loading it back takes 0.06 s) and none of the logits. llama-cpp-python's own
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
        self._states[system] = _without_logits(llm.save_state())
        while len(self._states) > self.limit:
            self._states.popitem(last=False)


def _without_logits(state: Any) -> Any:
    """`state` with a single zero row of logits. `Llama.load_state` broadcasts it over the
    restored rows; they are never sampled from, because llama-cpp-python re-evaluates at
    least the last prompt token after a restore (`_requires_eval`)."""
    state.scores = np.zeros((1, state.scores.shape[1]), dtype=np.single)
    return state
