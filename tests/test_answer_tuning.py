"""`benchmarks/answer_tuning.py replay --live`: recorded prompts come from the recording, any
other prompt goes to the live model and is appended to the live file. Real index and
embedder; the live model is scripted because the routing, not the model, is under test."""

import json
import sys
from pathlib import Path

from rag.assistant import Assistant
from tests.fakes import ScriptedChat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from answer_tuning import Recorder, Replay  # noqa: E402

QUESTION = "Why is monitoring important for ML products?"


def test_replay_sends_only_unrecorded_prompts_to_the_live_model(one_reading, embedder, tmp_path):
    live_file = tmp_path / "new.jsonl"
    scripted = ScriptedChat(reply="Monitoring is not optional [1].", calls=[])
    replay = Replay(outputs={}, live=Recorder(inner=scripted, out=str(live_file)))
    a = Assistant.load(one_reading, embedder=embedder, chat_model=replay)
    first = a.ask(QUESTION)
    assert len(scripted.calls) == 1 and not first.refused
    recorded = [json.loads(line) for line in live_file.read_text().splitlines()]
    assert recorded == [{"prompt": scripted.calls[0], "raw": "Monitoring is not optional [1]. "}]

    # The same prompt, now recorded, is replayed: the live model is not asked again.
    replay = Replay(outputs={r["prompt"]: r["raw"] for r in recorded}, live=Recorder(inner=scripted, out=str(live_file)))
    again = Assistant.load(one_reading, embedder=embedder, chat_model=replay).ask(QUESTION)
    assert len(scripted.calls) == 1 and again.text == first.text
    assert replay.calls == 1  # replayed calls are counted too: what a setting costs in LLM calls


def test_a_call_that_bans_words_is_recorded_and_replayed_under_its_own_key(tmp_path):
    """The retry bans refusal words; the same prompt with and without the ban gives different
    outputs, so the recording keeps them apart and passes the ban on to the real model."""
    live_file = tmp_path / "new.jsonl"
    scripted = ScriptedChat(reply="Ethical issues include fairness [1].", calls=[])
    messages = [("human", "Passages: ...\n\nQuestion: What ethical issues matter?")]
    "".join(str(c.content) for c in Recorder(inner=scripted, out=str(live_file)).stream(messages, banned_words=["NOT"]))
    assert scripted.banned == [["NOT"]]
    row = json.loads(live_file.read_text())
    assert row["prompt"].endswith("[banned: NOT]")
    replay = Replay(outputs={row["prompt"]: row["raw"], messages[0][1]: "NOT COVERED"})
    assert replay.invoke(messages, banned_words=["NOT"]).content == row["raw"]
    assert replay.invoke(messages).content == "NOT COVERED"


def test_a_generation_the_assistant_stops_is_recorded_as_far_as_it_was_read(one_reading, embedder, tmp_path):
    """The assistant stops reading a model that loops on a sentence; the recording keeps what
    was read, and replaying it gives the same answer."""
    live_file = tmp_path / "new.jsonl"
    loop = " Models become stale over time without anyone noticing [1]." * 20
    scripted = ScriptedChat(reply="Monitoring is not optional [1]." + loop, calls=[])
    first = Assistant.load(one_reading, embedder=embedder,
                           chat_model=Recorder(inner=scripted, out=str(live_file))).ask(QUESTION)
    [row] = [json.loads(line) for line in live_file.read_text().splitlines()]
    assert row["raw"].count("stale") == 2 and len(row["raw"]) < len(scripted.reply) / 5
    again = Assistant.load(one_reading, embedder=embedder,
                           chat_model=Replay(outputs={row["prompt"]: row["raw"]})).ask(QUESTION)
    assert again.text == first.text and first.text.count("stale") == 1
