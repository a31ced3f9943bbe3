"""Follow-up rewriting (rag.followup): when a question leans on the chat, and which of the
model's rewrites are used. The model here is scripted, so each case shows what is done with
a given rewrite; the real model's rewrites are measured on eval/followup_qa.jsonl
(docs/answers.md) and checked end to end in test_llm_end_to_end.py."""

from __future__ import annotations

from rag.followup import Rewrite, is_faithful, needs_rewrite, normalise_history, rewrite, unfaithful_because
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
    # A possessive whose noun is in the question itself stands alone; one with nothing before it does not.
    assert not needs_rewrite("What's the wrong way for a company to treat its data science team?", CURSOR)
    assert needs_rewrite("What are their main responsibilities?", CURSOR)
    assert needs_rewrite("How long did the team take to build it?", CURSOR)  # "it": not a possessive
    # "each" or "both" standing for what the answer listed, not before a noun.
    assert needs_rewrite("How long does each take?", COURSES) and needs_rewrite("What does each cost?", COURSES)
    assert needs_rewrite("Are both free of charge, or paid?", COURSES)
    assert not needs_rewrite("How long does each online course take?", COURSES)
    assert not needs_rewrite("What should each data science team member own?", COURSES)


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
    made = rewrite("How much does it cost per month?", CURSOR, model)
    assert made == Rewrite("How much does it cost per month?", "What does the technical PM guy use as their IDE?",
                           'it drops words of the question: "much", "cost", "per", "month"; asked as typed')


def test_a_rewrite_that_resolves_the_reference_is_used():
    assert is_faithful("How much does Cursor cost per month?", "How much does it cost per month?", CURSOR)
    # a fragment completed with a word of the model's own ("used")
    assert is_faithful("How is AI used in transportation and farming?", "And in transport or farming?",
                       [("Examples of AI in finance?", "Fraud detection and risk assessment. [1]")])
    # "the first one" is the reference itself: one word of the follow-up may go
    assert is_faithful("How many weeks does CS50: Introduction to Computer Science by Harvard take?",
                       "How many weeks does the first one take?", COURSES)
    model = ScriptedChat(reply="How much does Cursor cost per month?\nIt is an IDE.", calls=[])
    assert rewrite("How much does it cost per month?", CURSOR, model) == Rewrite("How much does Cursor cost per month?")
    assert "Cursor is the IDE" in model.calls[-1]  # the model saw the conversation


def test_a_rewrite_that_makes_the_question_over_or_adds_details_is_not_used():
    made_over = "How did the author manage to complete the NLP data science course in 18 months?"
    history = [("How long did the author take for the NLP course?", "It took almost 18 months to complete. [1]")]
    assert not is_faithful(made_over, "What gave him the time to finish it?", history)
    # two details from nowhere ("annual", "discount")
    assert unfaithful_because("How much does the Cursor annual plan cost per month with a discount?",
                              "How much does it cost per month?", CURSOR) == (
        'it adds words that are in neither the question nor the chat: "annual", "plan", "discount"')
    assert not is_faithful("", "How much does it cost per month?", CURSOR)


def test_a_failing_model_leaves_the_follow_up_as_asked():
    class Broken(ScriptedChat):
        def _stream(self, *args, **kwargs):
            raise RuntimeError("server down")
            yield

    assert rewrite("How much does it cost?", CURSOR, Broken(calls=[])) == Rewrite(
        "How much does it cost?", note="the model could not rewrite it; asked as typed")


class Replies(ScriptedChat):
    """Answers each call with the next scripted reply."""

    replies: list[str] = []

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.reply = self.replies.pop(0)
        yield from super()._stream(messages, stop, run_manager, **kwargs)


DATA_SCIENTISTS = [("What skills should I lean on when I need data scientists to simplify a model?",
                    "Understand the problem. [1] Listen. [1] Be empathetic. [1]")]


def test_a_pronoun_the_rewrite_left_in_place_is_replaced_by_its_referent():
    """The bundled model kept "them" in its rewrite, but named them when asked what "them"
    refers to."""
    model = Replies(replies=["What should I hand them when we kick off a feature?", "The data scientists."],
                    calls=[])
    made = rewrite("And what should I hand them when we kick off a feature?", DATA_SCIENTISTS, model)
    assert made.question == "What should I hand the data scientists when we kick off a feature?"
    assert made.proposed == "What should I hand them when we kick off a feature?"
    assert made.note == 'it leaves "them" as they are; the pronouns were replaced by what they refer to'
    assert 'what does "them" refer to?' in model.calls[-1]


def test_a_rejected_rewrite_falls_back_to_referents_and_a_bad_referent_to_the_follow_up():
    history = [("How long did the author take for the NLP course?", "It took almost 18 months to complete. [1]")]
    made_over = "How did the author manage to complete the NLP data science course in 18 months?"
    model = Replies(replies=[made_over, "The author", "The NLP course"], calls=[])
    assert rewrite("What gave him the time to finish it?", history, model).question == \
        "What gave the author the time to finish the NLP course?"
    assert 'what does "it" refer to?' in model.calls[-1]
    model = Replies(replies=[made_over, "The author", "The NLP course he took"], calls=[])
    assert rewrite("What gave him the time to finish it?", history, model).question == \
        "What gave the author the time to finish it?"
    # A sentence, a phrase with words from nowhere, or one holding the pronoun itself: not a referent.
    for referent in ["The technical PM guy uses the Cursor IDE to write code.", "The LLM boom", "His team"]:
        model = Replies(replies=["What does the technical PM guy use as their IDE?", referent], calls=[])
        assert rewrite("How much does his cost?", CURSOR, model).question == "How much does his cost?"


def test_a_kept_pronoun_next_to_its_named_referent_is_resolved():
    model = Replies(replies=["How long did the technical PM guy take his NLP course?"], calls=[])
    assert (rewrite("And how long did his NLP course take him?", CURSOR, model)
            == Rewrite("How long did the technical PM guy take his NLP course?"))
    assert len(model.calls) == 1  # no referent lookup


def test_it_never_becomes_a_person_and_an_it_pointing_at_nothing_is_left_alone():
    """Asked what "it" is in "How much does it cost per month?" after the IDE question, the
    bundled model said "The technical PM guy", and the assistant answered "The technical PM
    guy costs $8 per month. [1]" (stop 23)."""
    for person in ["The technical PM guy", "The author", "Tyna Hope's PM"]:
        model = Replies(replies=["What does the technical PM guy use as their IDE?", person], calls=[])
        made = rewrite("How much does it cost per month?", CURSOR, model)
        assert made.question == "How much does it cost per month?", person
        assert len(model.calls) == 2
    model = Replies(replies=["What does the technical PM guy use as their IDE?", "Cursor"], calls=[])
    assert rewrite("How much does it cost per month?", CURSOR, model).question == "How much does Cursor cost per month?"
    # "it" as a placeholder, not a pointer: nothing to look up, so the follow-up is asked as typed.
    for question in ["Is it worth paying for the technical PM guy's IDE?", "How long does it take to learn?",
                     "So it's free?"]:
        model = Replies(replies=["What IDE does the technical PM guy use?"], calls=[])
        assert rewrite(question, CURSOR, model).question == question
        assert len(model.calls) == 1


GAVISH = [("What does Yael Gavish say a PM should learn first?", "The fundamentals of ML. [1]")]


def test_her_is_replaced_as_an_owner_before_a_noun_and_as_a_person_elsewhere():
    for follow_up, expected in [
        ("What did her team build?", "What did Yael Gavish's team build?"),
        ("Which course did her own team take?", "Which course did Yael Gavish's own team take?"),
        ("What should I ask her about data?", "What should I ask Yael Gavish about data?"),
        ("Who hired her?", "Who hired Yael Gavish?"),
    ]:
        model = Replies(replies=["What did she build?", "Yael Gavish"], calls=[])
        assert rewrite(follow_up, GAVISH, model).question == expected


SKILLS = [("What skills does a technical PM need?",
           "Technical knowledge is essential. [1] It helps them understand data and work with engineers. [2]")]


def test_those_standing_for_a_noun_is_replaced_by_its_referent_and_where_it_was_said_is_dropped():
    """The bundled model rewrote "Which of those matter most?" as "What are the most important
    skills for a technical PM?", which loses the follow-up's one word, and asked as typed it was
    refused (stop 34). What "those" refers to, the model said, is "The skills mentioned in the
    previous question."."""
    model = Replies(replies=["What are the most important skills for a technical PM?",
                             "The skills mentioned in the previous question."], calls=[])
    made = rewrite("Which of those matter most?", SKILLS, model)
    assert made.question == "Which of the skills matter most?"
    assert 'what does "those" refer to?' in model.calls[-1]
    for follow_up, expected in [("And these, which is hardest?", "The skills, which is hardest?"),
                                ("Which of these should I learn first?", "Which of the skills should I learn first?")]:
        model = Replies(replies=["What are the skills?", "The skills listed"], calls=[])
        assert rewrite(follow_up, SKILLS, model).question == expected, follow_up


def test_those_before_its_noun_is_no_pronoun():
    model = Replies(replies=["Which of the important skills matter most?"], calls=[])
    # The rewrite adds "important" and keeps every word: used, with no referent lookup.
    assert rewrite("Which of those skills matter most?", SKILLS, model).question == \
        "Which of the important skills matter most?"
    assert len(model.calls) == 1
    model = Replies(replies=["Which of those skills are hardest to learn for a chef?"], calls=[])
    assert rewrite("Which of those skills are hardest?", SKILLS, model).question == "Which of those skills are hardest?"
    assert len(model.calls) == 1


def test_a_light_verb_said_otherwise_is_no_lost_word():
    """The page was asked "and how long did that take?" after a question on how the author
    learned to code; the model's rewrite, "How long did the technical PM author spend learning
    to code?", lost "take" (half the follow-up's own words) and was not used, and the question
    as typed was refused. A light verb may be said otherwise; the other words must stay."""
    history = [("How did the technical PM author learn to code?",
                "He took Harvard's CS50 course and Codecademy's NLP path. [1]")]
    assert is_faithful("How long did the technical PM author spend learning to code?",
                       "and how long did that take?", history)
    assert not is_faithful("How did the technical PM author learn to code?", "and how long did that take?", history)


COURSES = [("Which courses did the technical PM author find most useful?",
            "CS50: Introduction to Computer Science by Harvard and Data Scientist: NLP Specialist Career Path"
            " by CodeAcademy. [1][2]")]


def test_that_standing_for_a_thing_is_looked_up_before_the_model_rewrites():
    """The bundled model rewrote "and how long did that take?", after the courses question, as
    "How long did the technical PM author find it useful to take CS50 and ...?": the previous
    question's "find useful" spliced in, which the word checks cannot see (stop 47). Asked what
    "that" refers to, it said "The courses mentioned in the previous question."."""
    model = Replies(replies=["The courses mentioned in the previous question.", "unused"], calls=[])
    assert rewrite("and how long did that take?", COURSES, model) == Rewrite("How long did the courses take?")
    assert len(model.calls) == 1 and 'what does "that" refer to?' in model.calls[0]
    # A referent that fails the checks leaves the question to the model's rewrite, and is not
    # looked up a second time when that rewrite fails too.
    model = Replies(replies=["The courses by CodeAcademy, CS50: Introduction to Computer Science",
                             "How long did the CS50 and NLP courses take?"], calls=[])
    assert rewrite("and how long did that take?", COURSES, model).question == \
        "How long did the CS50 and NLP courses take?"
    model = Replies(replies=["The bananas", "What is a banana?"], calls=[])
    assert rewrite("and how long did that take?", COURSES, model).question == "and how long did that take?"
    assert len(model.calls) == 2


def test_that_joining_a_clause_or_before_its_noun_is_no_pronoun():
    """Only a "that" standing for a thing is looked up first; otherwise the model rewrites."""
    for question in ("And does the article say that models drift?", "And how long does that course take?",
                     "And is this course free?", "What did he mean by saying that PMs should code?"):
        model = Replies(replies=["Does it?", "unused", "unused"], calls=[])
        rewrite(question, COURSES, model)
        assert model.calls[0].endswith("Standalone question:"), question
    for question in ("What math should I learn to understand that better?", "Which tool should we use for that?",
                     "What does this mean for me?"):
        model = Replies(replies=["unused", "unused"], calls=[])
        rewrite(question, COURSES, model)
        assert model.calls[0].endswith("refer to?"), question
