"""rag.prompt_states: which state is kept and when it is put back (a scripted context), and
with the real model that an answer after another system prompt's call is the answer it gives
without that call in between."""

from types import SimpleNamespace

import numpy as np
import pytest

from rag.prompt_states import PromptStates


class ScriptedContext:
    """Records loads; `save_state` returns a state shaped like llama-cpp-python's."""

    def __init__(self) -> None:
        self.n_tokens = 0
        self.loaded: list[object] = []
        self.saved_rows: list[int] = []  # logits rows each save_state copied

    def save_state(self) -> SimpleNamespace:
        self.saved_rows.append(self.n_tokens)
        return SimpleNamespace(n_tokens=self.n_tokens, scores=np.ones((self.n_tokens, 8), dtype=np.single))

    def load_state(self, state: object) -> None:
        self.loaded.append(state)


def _call(states: PromptStates, llm: ScriptedContext, system: str, tokens: int) -> bool:
    restored = states.before(llm, system)
    llm.n_tokens = tokens
    states.after(llm, system)
    return restored


def test_a_system_prompt_is_put_back_only_after_another_came_in_between() -> None:
    states, llm = PromptStates(), ScriptedContext()
    assert not _call(states, llm, "answer", 600)  # nothing kept yet
    assert not _call(states, llm, "answer", 650)  # the context still starts with it
    assert not _call(states, llm, "rewrite", 200)
    assert _call(states, llm, "answer", 640)
    assert llm.loaded[0].n_tokens == 600, "the first state with that system prompt is the one kept"
    assert _call(states, llm, "rewrite", 210)
    assert states.restores == 2


def test_kept_states_carry_no_logits_and_are_bounded() -> None:
    states, llm = PromptStates(limit=2), ScriptedContext()
    for system in ("a", "b", "c"):
        _call(states, llm, system, 300)
    assert not _call(states, llm, "a", 300), "the oldest state was dropped"
    assert _call(states, llm, "c", 300)
    assert llm.loaded[0].scores.shape == (1, 8)
    # llama-cpp-python's save_state copies a row of logits per token (296 MB after 681 tokens):
    # one row is copied, and the context's token count is left as it was.
    assert set(llm.saved_rows) == {1} and llm.n_tokens == 300


def test_an_empty_context_is_not_kept_and_a_bad_limit_is_refused() -> None:
    states, llm = PromptStates(), ScriptedContext()
    _call(states, llm, "answer", 0)
    _call(states, llm, "rewrite", 10)
    assert not _call(states, llm, "answer", 0)
    with pytest.raises(ValueError, match="at least 1"):
        PromptStates(limit=0)


@pytest.mark.llm
def test_the_answer_after_a_rewrite_is_the_one_given_without_it(local_llm) -> None:
    """The follow-up case: answer, rewrite (another system prompt), answer. The second answer
    is identical to the one given straight after the first, and came from a restored state."""
    system = "You answer in one short sentence."
    first = [("system", system), ("human", "Name one colour of the rainbow.")]
    second = [("system", system), ("human", "Name one planet of the solar system.")]
    other = [("system", "You rewrite questions."), ("human", "Rewrite: what is it?")]

    def say(messages: list[tuple[str, str]]) -> str:
        return "".join(str(c.content) for c in local_llm.stream(messages, max_tokens=16))

    say(first)
    expected = say(second)
    restores = local_llm._states.restores
    say(first)
    say(other)
    assert say(second) == expected
    assert local_llm._states.restores == restores + 1
