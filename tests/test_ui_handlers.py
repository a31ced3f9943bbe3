"""The page's handlers without a browser: a scripted LLM, the real embedder and index."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from rag.assistant import Assistant
from tests.fakes import ScriptedChat

SKIP = {"__type__": "update"}  # gr.skip(): the output keeps its value
REPLY = "Monitoring is not optional [1]. It is the most under valued part of operationalizing ML solutions [1]."


def handlers(settings, embedder, tmp_path: Path, reply: str = REPLY):
    from ui.handlers import Handlers

    llm = ScriptedChat(reply=reply, calls=[])
    return Handlers(Assistant.load(settings, embedder=embedder, chat_model=llm), settings,
                    tmp_path / "feedback.jsonl"), llm


def run(h, message, history, turns):
    *_, last = h.respond(message, history, turns, 4, None)
    return last


def test_chat_streams_then_shows_sources_and_passes_prior_turns(built_index, embedder, tmp_path):
    h, llm = handlers(built_index, embedder, tmp_path)
    steps = list(h.respond("Why is monitoring important for ML products?", [], [], 4, None))
    assert "pm-pending" in steps[0][0][-1]["content"]
    # While the LLM reads, the note names the articles (a follow-up's rewrite too, see render).
    assert "Reading 4 passages from “" in steps[1][0][-1]["content"]
    assert any("pm-sources" not in s[0][-1]["content"] and "Monitoring" in s[0][-1]["content"]
               and "pm-writing" in s[0][-1]["content"]
               for s in steps[1:-1])  # partial text streamed before the final message, marked as such
    # While the passages are read again, the streamed draft says it is one.
    assert "Checking this draft" in steps[-2][0][-1]["content"] and "Monitoring" in steps[-2][0][-1]["content"]
    history, turns, debug, box, ask, stop = steps[-1]
    assert "pm-sources" in history[-1]["content"] and "pm-cite" in history[-1]["content"]
    assert "pm-writing" not in history[-1]["content"]
    assert len(turns) == 1 and "Timings" in debug
    # The box is emptied as the question is taken, then left alone: what the reader types
    # while the answer streams is not wiped by the next update.
    assert steps[0][3] == "" and all(s[3] == SKIP for s in steps[1:]) and box == SKIP
    # Stop takes Ask's place as the question is taken (the layout puts Ask back after).
    assert steps[0][4]["visible"] is False and steps[0][5]["visible"] is True
    assert ask == SKIP and stop == SKIP and h.stop() is False  # nothing runs any more

    seen = []
    real_stream = h.assistant.stream

    def spy(question, *, history=None, k=None, progress=False, stop=None):
        seen.append(history)
        return real_stream(question, history=history, k=k, progress=progress, stop=stop)

    h.assistant.stream = spy
    history, turns, *_ = run(h, "And why is it undervalued?", history, turns)
    assert seen == [[(turns[0].question, turns[0].text)]]  # prior turns reach the assistant
    assert len(history) == 4 and len(turns) == 2


def test_an_empty_question_leaves_the_chat_as_it_was(built_index, embedder, tmp_path):
    h, llm = handlers(built_index, embedder, tmp_path)
    for message in ("", "   "):
        assert list(h.respond(message, [{"role": "user", "content": "hi"}], [], 4, None)) == [(SKIP,) * 6]
    assert llm.calls == []


def test_stop_in_the_second_reading_shows_the_first_readings_checked_answer(built_index, embedder, tmp_path):
    h, llm = handlers(built_index, embedder, tmp_path)
    steps = []
    for step in h.respond("Why is monitoring important for ML products?", [], [], 4, None, session="s1"):
        steps.append(step)
        if "Checking this draft" in step[0][-1]["content"]:
            assert h.stop("other session") is False  # a Stop is for its own session's answer
            assert h.stop("s1") is True
    final = steps[-1][0][-1]["content"]
    assert "You stopped the second reading" in final and "pm-cite" in final and "pm-sources" in final
    answer = steps[-1][1][-1]
    assert (answer.stopped_at, answer.reading, answer.readings) == (2, 1, 1)
    assert len(llm.calls) == 2  # the second reading was asked, then stopped at its first word
    assert h.stop("s1") is False


def test_stop_in_the_first_reading_keeps_the_sentences_finished_by_then(built_index, embedder, tmp_path):
    h, llm = handlers(built_index, embedder, tmp_path)
    steps = []
    for step in h.respond("Why is monitoring important for ML products?", [], [], 4, None, session="s1"):
        steps.append(step)
        if "optional [1]." in step[0][-1]["content"]:
            h.stop("s1")
    answer = steps[-1][1][-1]
    assert answer.stopped_at == 1 and not answer.refused and len(llm.calls) == 1  # no second reading
    assert [s.text for s in answer.sentences] == ["Monitoring is not optional."]
    assert "You stopped the answer" in steps[-1][0][-1]["content"]


def test_with_nothing_streamed_the_second_reading_is_no_draft_check(built_index, embedder, tmp_path):
    """The first reading said NOT COVERED (held back, never shown): the note while the
    passages are read again must not speak of a draft that is not there."""
    h, _ = handlers(built_index, embedder, tmp_path, reply="NOT COVERED")
    contents = [step[0][-1]["content"] for step in h.respond("Why is monitoring important for ML products?",
                                                               [], [], 4, None)]
    notes = [c for c in contents if "again in another order" in c]
    assert notes and all("Checking this draft" not in c and "to check the answer" in c for c in notes)


def test_feedback_and_export_carry_question_answer_and_citations(built_index, embedder, tmp_path):
    h, _ = handlers(built_index, embedder, tmp_path)
    history, turns, *_ = run(h, "Why is monitoring important for ML products?", [], [])
    h.like(SimpleNamespace(index=1, liked=False), turns)
    row = json.loads((tmp_path / "feedback.jsonl").read_text().splitlines()[0])
    assert row["liked"] is False and row["question"].startswith("Why is monitoring")
    assert row["citations"][0]["doc_id"].endswith(".md") and row["citations"][0]["quote"]
    path, text = h.export(turns)
    assert Path(path).read_text() == text and "## Q: Why is monitoring" in text and "  > " in text


def test_upload_indexes_good_files_and_names_failures(corpus_settings, embedder, tmp_path):
    from rag.indexing import update_index

    update_index(corpus_settings, embedder)
    h, _ = handlers(corpus_settings, embedder, tmp_path)
    up = tmp_path / "up"
    up.mkdir()
    (up / "lanterns.md").write_text("# Lantern reviews\n\nA lantern review is a short weekly meeting"
                                    " where the PM shows one failed experiment.\n")
    (up / "empty.md").write_text("")
    (up / "notes.exe").write_bytes(b"MZ")
    existing = next(corpus_settings.corpus_dir.glob("*.md"))
    clash = up / existing.name
    clash.write_text("# Different\n\nA different article that happens to share a file name.\n")
    report, status, cleared = h.upload([str(up / n) for n in ("lanterns.md", "empty.md", "notes.exe")]
                                       + [str(clash)])
    assert "lanterns.md" in report and f"{existing.name} → saved as {existing.stem}-2.md" in report
    assert "**empty.md**" in report and "**notes.exe**" in report and "unsupported" in report
    assert "7 articles" in status and cleared is None
    assert not (corpus_settings.corpus_dir / "empty.md").exists()  # a failed upload does not linger
    assert existing.read_text() != clash.read_text()  # the old article was not overwritten
