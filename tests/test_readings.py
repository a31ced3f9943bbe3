import re
from dataclasses import replace

from rag.answer import Answer, Rereading, SentenceCheck
from rag.assistant import Assistant
from rag.readings import better, checked_support, reordered
from tests.conftest import shown_passages
from tests.fakes import ScriptedChat

QUESTION = "Why is monitoring important for ML products?"


def _answer(*sentences: tuple[bool, float], refused: bool = False) -> Answer:
    checks = [SentenceCheck(f"Claim {i}.", [1], ok, support) for i, (ok, support) in enumerate(sentences)]
    return Answer("q", "text", refused, [], checks)


def test_the_better_supported_answer_is_kept_and_a_tie_keeps_the_first():
    weak, strong = _answer((True, 0.6), (False, 0.3)), _answer((True, 0.9))
    assert checked_support(weak) == 0.3 and checked_support(strong) == 0.9  # an unsupported sentence counts 0
    assert better(weak, strong) is strong and better(strong, weak) is strong
    same = _answer((True, 0.6), (False, 0.3))
    assert better(weak, same) is weak


def test_the_key_quote_does_not_count_for_a_reading():
    """The key quote is the same passage sentence in either reading and "supported" by
    construction; counted, a reading whose own sentences all failed beat one whose claims
    checked out (blind5 g04 once its forced "Yes" was dropped)."""
    quote = SentenceCheck("“The article's words.”", [2], True, 1.0, key_quote=True)
    claims = _answer((True, 0.6))
    only_quote = Answer("q", "text", False, [], [quote])
    assert checked_support(only_quote) == 0.0 and better(claims, only_quote) is claims
    with_quote = Answer("q", "text", False, [], [*claims.sentences, quote])
    assert checked_support(with_quote) == 0.6


def test_a_refusal_loses_to_any_answer():
    refusal, thin = _answer(refused=True), _answer((False, 0.2))
    assert better(refusal, thin) is thin and better(thin, refusal) is thin
    assert better(refusal, _answer(refused=True)) is refusal


def test_passages_are_ordered_by_their_likeness_to_the_question(built_index, embedder):
    _, qvec, _, _, passages = shown_passages(built_index, embedder, QUESTION, 130)
    sims = embedder.embed([p.text for p in passages]) @ qvec
    # The shown order puts the passage most like the question first and numbers from [1].
    backwards = [replace(p, n=i + 1) for i, p in enumerate(sorted(passages, key=lambda p: -sims[p.n - 1])[::-1])]
    again = reordered(backwards, qvec, embedder)
    assert again is not None and [p.n for p in again] == [1, 2, 3, 4]
    assert [p.text for p in again] == [p.text for p in backwards][::-1]
    # Already in that order: no second reading.
    assert reordered(again, qvec, embedder) is None
    assert reordered(again[:1], qvec, embedder) is None


class _SecondReadingAnswers(ScriptedChat):
    """An invented claim on the first reading, the article's own words on the second."""

    first: str = "Bananas are the key to pricing [1]."

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        if not self.calls:
            self.calls.append(str(messages[-1].content))
            yield from ScriptedChat(reply=self.first, calls=[])._stream(messages)
            return
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def _passage_texts(prompt: str) -> list[str]:
    return re.findall(r"(?s)\n<<<\n(.*?)\n>>>", prompt)


def test_a_question_is_read_again_in_another_order_and_the_better_answer_kept(built_index, embedder):
    _, qvec, _, _, passages = shown_passages(built_index, embedder, QUESTION, 130)
    assert reordered(passages, qvec, embedder) is not None  # this question's passages come in another order
    llm = _SecondReadingAnswers(reply="Monitoring is not optional [1].", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    events = list(a.stream(QUESTION))
    ans = events[-1]
    first, second = (_passage_texts(call) for call in llm.calls)
    assert first != second and sorted(first) == sorted(second)
    assert not ans.refused and ans.text.startswith("Monitoring is not optional")
    assert (ans.readings, ans.reading) == (2, 2) and ans.to_dict()["reading"] == 2
    # Only the first reading is streamed to the page; the second shows in the final answer.
    assert "".join(e for e in events if isinstance(e, str)).startswith("Bananas")
    assert not any(isinstance(e, Rereading) for e in events)  # notes only on request

    # On request, a note comes between the first reading's text and the checked answer.
    noted = Assistant.load(built_index, embedder=embedder,
                           chat_model=_SecondReadingAnswers(reply="Monitoring is not optional [1].", calls=[]))
    kinds = [type(e).__name__ for e in noted.stream(QUESTION, progress=True)]
    assert kinds[0] == "Reading" and kinds[-2:] == ["Rereading", "Answer"] and "str" in kinds

    # With one reading, the invented claim is all there is, and it is refused.
    once = _SecondReadingAnswers(reply="Monitoring is not optional [1].", calls=[])
    one = Assistant.load(replace_setting(built_index, readings=1), embedder=embedder, chat_model=once).ask(QUESTION)
    assert len(once.calls) == 1 and one.refused and one.readings == 1
    single = Assistant.load(replace_setting(built_index, readings=1), embedder=embedder,
                            chat_model=_SecondReadingAnswers(reply="x", calls=[]))
    assert not any(isinstance(e, Rereading) for e in single.stream(QUESTION, progress=True))


def replace_setting(settings, **kw):
    return settings.model_copy(update=kw)
