import time
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from rag.answer import Timings
from rag.config import Settings
from rag.errors import ConfigError, ModelUnavailableError
from rag.markers import repeat_start
from rag.reply_stream import says_nothing, stream_reply

MESSAGES = [("system", "Answer from the passages."), ("human", "Why is monitoring important?")]


class _Pieces(BaseChatModel):
    """Streams `pieces` exactly as given, then raises `error` if set; notes the pieces read
    and whether the stream was closed. It keeps each stream it hands out, so a stream left
    unclosed is not closed by the garbage collector either."""

    pieces: list[str]
    error: Any = None
    read: list[str] = []
    closed: list[bool] = []
    streams: list[Any] = []

    @property
    def _llm_type(self) -> str:
        return "pieces"

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.streams.append(stream := super().stream(*args, **kwargs))
        return stream

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        try:
            for piece in self.pieces:
                self.read.append(piece)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if self.error is not None:
                raise self.error
        finally:
            self.closed.append(True)

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        raise NotImplementedError  # stream_reply only streams


def _run(model: BaseChatModel, timings: Timings | None = None) -> tuple[list[str], str, Timings]:
    """(the pieces shown, the returned full text, the timings) of one `stream_reply`."""
    timings = timings or Timings()
    shown: list[str] = []
    t0 = time.perf_counter() - 1.0  # the question came a second before generation started
    gen: Generator[str, None, str] = stream_reply(model, MESSAGES, timings, t0, time.perf_counter(),
                                                  Settings.load(llm="none"))
    while True:
        try:
            shown.append(next(gen))
        except StopIteration as stop:
            return shown, stop.value, timings


def test_a_bare_not_covered_is_never_shown_and_is_returned():
    shown, raw, timings = _run(_Pieces(pieces=["NOT", " COV", "ERED"], read=[], closed=[]))
    assert shown == [] and raw == "NOT COVERED"
    assert timings.first_token_ms == 0.0 and timings.wait_ms == 0.0  # nothing was shown


def test_a_reply_of_bare_markers_is_never_shown_and_is_returned():
    for pieces in (["[1]", " [2]"], ["B [2]", " and C [3]"]):
        shown, raw, _ = _run(_Pieces(pieces=pieces, read=[], closed=[]))
        assert shown == [] and raw == "".join(pieces)


def test_a_held_back_start_is_shown_whole_once_the_reply_says_something():
    # Markers before the first word, or a start like NOT COVERED, wait for the words.
    cases = {("[1]", " [2] ", "Monitoring", " matters [1]."): ["[1] [2] Monitoring", " matters [1]."],
             ("NOT", " only monitoring", " matters [1]."): ["NOT only monitoring", " matters [1]."]}
    for pieces, expected in cases.items():
        shown, raw, timings = _run(_Pieces(pieces=list(pieces), read=[], closed=[]))
        assert shown == expected and raw == "".join(pieces) and timings.first_token_ms > 0
    # A reply that opens with the refusal's words but is an answer (80 characters or more) is held
    # to the end, then shown.
    pieces = ["Not covered", " by the warranty,", " models still need monitoring [1]", " for months after launch."]
    shown, raw, timings = _run(_Pieces(pieces=pieces, read=[], closed=[]))
    assert shown == ["".join(pieces)] and raw == "".join(pieces) and timings.first_token_ms > 0


def test_a_reply_streams_as_it_comes_and_records_the_wait():
    pieces = ["Monitoring", " is not", " optional [1].", " Models go stale [1]."]
    model = _Pieces(pieces=pieces, read=[], closed=[])
    shown, raw, timings = _run(model)
    assert shown == pieces and raw == "".join(pieces)
    # first_token_ms from the start of generation, wait_ms from the question (a second earlier).
    assert 0 < timings.first_token_ms < 1000 <= timings.wait_ms
    assert model.closed == [True]
    # Timings already set (by a first reply before its retry) are kept.
    kept = Timings(first_token_ms=5.0, wait_ms=7.0)
    _run(_Pieces(pieces=pieces, read=[], closed=[]), kept)
    assert (kept.first_token_ms, kept.wait_ms) == (5.0, 7.0)


def test_a_reply_repeating_a_sentence_is_cut_where_the_repeat_starts():
    loop = " Models become stale over time without anyone noticing [1]."
    words = ("Monitoring is not optional [1]." + loop * 20).split(" ")
    pieces = [words[0]] + [" " + w for w in words[1:]]
    model = _Pieces(pieces=pieces, read=[], closed=[])
    shown, raw, _ = _run(model)
    read = "".join(model.read)  # up to the piece that completed the repeat
    cut = repeat_start(read)
    assert cut is not None and raw == read[:cut]
    assert raw == "Monitoring is not optional [1]." + loop + " "  # said once, up to where it starts again
    assert len(model.read) < 30 and model.closed == [True]  # the model was stopped, not read to the end
    assert "".join(shown) == "".join(model.read[:-1])  # the piece that showed the loop is not shown


def test_a_backend_exception_becomes_one_typed_error_and_a_rag_error_passes_through():
    failing = _Pieces(pieces=["Monitoring"], error=RuntimeError("the backend fell over"), read=[], closed=[])
    with pytest.raises(ModelUnavailableError, match=r"the LLM backend failed \(RuntimeError: the backend fell over\)") as info:
        _run(failing)
    assert isinstance(info.value.__cause__, RuntimeError) and failing.closed == [True]

    ours = ConfigError("a setting is wrong")
    with pytest.raises(ConfigError) as info:
        _run(_Pieces(pieces=[], error=ours, read=[], closed=[]))
    assert info.value is ours


def test_says_nothing_means_no_content_word():
    for raw in ("", "  ", "[1] [2] [3] [4]", "[1], [2].", "B [2] and C [3]"):
        assert says_nothing(raw), raw
    for raw in ("Monitoring [1].", "Models go stale.", "NOT COVERED"):
        assert not says_nothing(raw), raw


def test_a_reply_the_reader_stops_is_cut_at_its_last_finished_sentence_and_the_model_closed():
    import threading

    stop = threading.Event()
    model = _Pieces(pieces=["Monitoring matters [1].", " It catches", " drift early", " [2].", " More"],
                    read=[], closed=[])
    gen = stream_reply(model, MESSAGES, Timings(), time.perf_counter(), time.perf_counter(),
                       Settings.load(llm="none"), stop=stop)
    shown = [next(gen), next(gen)]
    stop.set()  # the reader presses Stop while "It catches" is on the page
    with pytest.raises(StopIteration) as end:
        next(gen)
    assert shown == ["Monitoring matters [1].", " It catches"]
    assert end.value.value == "Monitoring matters [1]."
    assert model.read == ["Monitoring matters [1].", " It catches", " drift early"]  # not read on
    assert model.closed == [True]
