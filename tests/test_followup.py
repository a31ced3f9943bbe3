"""Follow-up rewriting (rag.followup): when a question leans on the chat, and which of the
model's rewrites are used. The model here is scripted, so each case shows what is done with
a given rewrite; the real model's rewrites are measured on eval/followup_qa.jsonl
(docs/answers.md) and checked end to end in test_llm_end_to_end.py."""

from __future__ import annotations

from rag.followup import is_faithful, needs_rewrite, normalise_history, rewrite
from tests.fakes import ScriptedChat

CURSOR = [("what IDE does the technical PM guy use?", "Cursor is the IDE used by the technical PM guy. [1]")]
COURSES = [("Which online courses do the articles point to?",
            "CS50: Introduction to Computer Science by Harvard, and Codecademy's NLP career path. [1]")]


def test_a_question_is_rewritten_only_when_it_leans_on_the_chat():
    assert needs_rewrite("How much does it cost per month?", CURSOR)
    assert needs_rewrite("And in transport or farming?", CURSOR)
    assert needs_rewrite("Why?", CURSOR)  # too short to stand alone
    assert not needs_rewrite("How much does it cost per month?", [])  # no chat yet
    assert not needs_rewrite("Which courses does the step-by-step guide recommend?", CURSOR)


def test_history_is_accepted_as_pairs_or_chat_messages():
    messages = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
                {"role": "user", "content": "q2"}]  # the open question has no answer yet
    assert normalise_history(messages) == [("q1", "a1")]
    assert normalise_history([("q1", "a1")]) == [("q1", "a1")]
    assert normalise_history(None) == []


def test_a_rewrite_that_asks_the_previous_question_again_is_not_used():
    """The bundled model turned "How much does it cost per month?" into the previous question;
    the assistant then answered which IDE he uses, cited, to a question about price."""
    assert not is_faithful("What does the technical PM guy use as their IDE?", "How much does it cost per month?",
                           CURSOR)
    model = ScriptedChat(reply="What does the technical PM guy use as their IDE?", calls=[])
    assert rewrite("How much does it cost per month?", CURSOR, model) == "How much does it cost per month?"


def test_a_rewrite_that_resolves_the_reference_is_used():
    assert is_faithful("How much does Cursor cost per month?", "How much does it cost per month?", CURSOR)
    # a fragment completed with a word of the model's own ("used")
    assert is_faithful("How is AI used in transportation and farming?", "And in transport or farming?",
                       [("Examples of AI in finance?", "Fraud detection and risk assessment. [1]")])
    # "the first one" is the reference itself: one word of the follow-up may go
    assert is_faithful("How many weeks does CS50: Introduction to Computer Science by Harvard take?",
                       "How many weeks does the first one take?", COURSES)
    model = ScriptedChat(reply="How much does Cursor cost per month?\nIt is an IDE.", calls=[])
    assert rewrite("How much does it cost per month?", CURSOR, model) == "How much does Cursor cost per month?"
    assert "Cursor is the IDE" in model.calls[-1]  # the model saw the conversation


def test_a_rewrite_that_makes_the_question_over_or_adds_details_is_not_used():
    made_over = "How did the author manage to complete the NLP data science course in 18 months?"
    history = [("How long did the author take for the NLP course?", "It took almost 18 months to complete. [1]")]
    assert not is_faithful(made_over, "What gave him the time to finish it?", history)
    # two details from nowhere ("annual", "discount")
    assert not is_faithful("How much does the Cursor annual plan cost per month with a discount?",
                           "How much does it cost per month?", CURSOR)
    assert not is_faithful("", "How much does it cost per month?", CURSOR)


def test_a_failing_model_leaves_the_follow_up_as_asked():
    class Broken(ScriptedChat):
        def _stream(self, *args, **kwargs):
            raise RuntimeError("server down")
            yield

    assert rewrite("How much does it cost?", CURSOR, Broken(calls=[])) == "How much does it cost?"
