from rag.long_question import LONG_WORDS, own_question

STORY = ("I have been a product manager for six years on logistics software, and next quarter I take over a "
         "team of two data scientists and an ML engineer building a delay prediction model for shipments. "
         "I have never trained a model, I do not have a computer science degree, and I only have about five "
         "hours a week to learn before the team moves under me, so I want to spend them well. ")


def test_a_short_question_is_asked_whole_even_with_context_before_it():
    q = "We just shipped a churn model and the DS team says it gives back a probability. Is that normal?"
    assert own_question(q).question == q and own_question(q).note == ""
    assert len(STORY.split()) > LONG_WORDS - 10  # the long cases below are long


def test_a_long_message_is_asked_as_its_last_question_without_the_lead_in():
    message = STORY + "Given all of that, what should I learn first?"
    asked = own_question(message)
    assert asked.question == "What should I learn first?"
    assert f"({len(message.split())} words)" in asked.note


def test_questions_asked_together_stay_together_and_a_closing_line_is_left_out():
    asked = own_question(STORY + "What should I learn first? And how do I work with the data scientists? Thanks!")
    assert asked.question == "What should I learn first? And how do I work with the data scientists?"


def test_an_ask_without_a_question_mark_is_the_last_sentence():
    assert own_question(STORY + "Please tell me which course to take.").question == "Please tell me which course to take."


def test_a_question_in_the_story_is_not_the_ask_when_a_later_one_asks():
    q = "Why does this matter? " + STORY + "So, which course should I take?"
    assert own_question(q).question == "Which course should I take?"


def test_too_short_an_ask_keeps_the_message_whole():
    q = STORY + "Why?"
    assert own_question(q).question == q
