"""rag.prompt_states: every call starts from its system prompt's turn evaluated alone (a
scripted context), and with the real model an answer does not depend on what came before."""

from types import SimpleNamespace

import numpy as np
import pytest

from rag.prompt_states import PromptStates, system_turn_tokens


class ScriptedContext:
    """Records resets, evaluations and loads; `save_state` returns a state shaped like
    llama-cpp-python's. Its chat template puts the system prompt in "<s>...</s>"."""

    metadata = {"tokenizer.chat_template": "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}"}

    def __init__(self) -> None:
        self.n_tokens = 0
        self.evaluated: list[list[int]] = []
        self.loaded: list[object] = []
        self.saved_rows: list[int] = []  # logits rows each save_state copied
        self._model = SimpleNamespace(token_get_text=lambda t: "")

    def token_eos(self) -> int:
        return -1

    def token_bos(self) -> int:
        return -1

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return list(text)

    def reset(self) -> None:
        self.n_tokens = 0

    def eval(self, tokens: list[int]) -> None:
        self.evaluated.append(tokens)
        self.n_tokens += len(tokens)

    def save_state(self) -> SimpleNamespace:
        self.saved_rows.append(self.n_tokens)
        return SimpleNamespace(n_tokens=self.n_tokens, scores=np.ones((self.n_tokens, 8), dtype=np.single))

    def load_state(self, state: SimpleNamespace) -> None:
        self.loaded.append(state)
        self.n_tokens = state.n_tokens


def _call(states: PromptStates, llm: ScriptedContext, system: str, prompt_tokens: int,
          continues: bool = False) -> tuple[bool, int]:
    """A call: returns whether a state was loaded and how many tokens it started from."""
    restored = states.before(llm, system, continues=continues)
    start = llm.n_tokens
    llm.n_tokens = max(llm.n_tokens, prompt_tokens)
    return restored, start


def test_the_system_turn_is_rendered_with_the_models_template() -> None:
    assert system_turn_tokens(ScriptedContext(), "Be brief.") == list(b"<system>Be brief.</system><user>")
    assert system_turn_tokens(SimpleNamespace(metadata={}), "Be brief.") == []


def test_every_call_starts_from_its_system_turn_alone() -> None:
    states, llm = PromptStates(), ScriptedContext()
    turn = len(system_turn_tokens(llm, "answer"))
    assert _call(states, llm, "answer", 600) == (False, turn)  # evaluated alone, then kept
    assert llm.evaluated == [system_turn_tokens(llm, "answer")]
    assert _call(states, llm, "answer", 650) == (False, turn)  # cut back to it
    assert _call(states, llm, "answer", 700, continues=True) == (False, 650)  # a retry keeps its prompt
    assert _call(states, llm, "rewrite", 200)[0] is False
    assert _call(states, llm, "answer", 640) == (True, turn)  # put back after another came in between
    assert _call(states, llm, "rewrite", 210)[0] is True
    assert states.restores == 2 and len(llm.evaluated) == 2


def test_a_continuation_after_another_system_prompt_starts_from_its_turn() -> None:
    states, llm = PromptStates(), ScriptedContext()
    _call(states, llm, "answer", 600)
    _call(states, llm, "rewrite", 200)
    turn = len(system_turn_tokens(llm, "answer"))
    assert _call(states, llm, "answer", 650, continues=True) == (True, turn)


def test_kept_states_carry_no_logits_and_are_bounded() -> None:
    states, llm = PromptStates(limit=2), ScriptedContext()
    for system in ("a", "b", "c"):
        _call(states, llm, system, 300)
    assert _call(states, llm, "a", 300)[0] is False, "the oldest state was dropped and is evaluated again"
    assert _call(states, llm, "c", 300)[0] is True
    assert llm.loaded[0].scores.shape == (1, 8)
    # llama-cpp-python's save_state copies a row of logits per token: one row is copied, and
    # the context's token count is left as it was.
    assert set(llm.saved_rows) == {1}
    with pytest.raises(ValueError, match="at least 1"):
        PromptStates(limit=0)


@pytest.mark.llm
def test_an_answer_does_not_depend_on_the_question_before_it(local_llm) -> None:
    """Before stop 36 the context kept the longest prefix shared with the previous prompt, and
    the same prompt evaluated after other prompts could be answered differently (fresh f04)."""
    system = "You answer in one short sentence."
    asked = [("system", system), ("human", "Passages:\n[1] Red, orange and yellow are warm colours.\n\n"
                                           "Question: Which colours are warm?")]
    before = [[("system", system), ("human", "Passages:\n[1] Red, orange and yellow are warm colours.\n\n"
                                             "Question: Is blue warm?")],
              [("system", "You rewrite questions."), ("human", "Rewrite: what is it?")],
              [("system", system), ("human", "Name one planet of the solar system.")]]

    def say(messages: list[tuple[str, str]]) -> str:
        return "".join(str(c.content) for c in local_llm.stream(messages, max_tokens=24))

    expected = say(asked)
    for other in before:
        say(other)
        assert say(asked) == expected, other
    # The evaluated system turn is what every call with it starts from: after the rewrite's
    # call the answer's turn was loaded back, not evaluated again.
    assert local_llm._states.restores >= 1
