"""Prompt building decisions that are not covered with the passages in test_citations.py."""

import pytest

from rag.prompting import is_yes_no_question


@pytest.mark.parametrize("question", [
    "Do I need to build ML technology from scratch to put it in my product?",
    "do PMs actually manage people?",
    "As an ML PM, am I still the one who designs the whole feature?",
    "If I wanted to become a full-time engineer, would the author still say lean on AI coding assistants?",
    "We're not building chatbots or self-driving cars. Will we still need ML in our product?",
])
def test_yes_no_questions_are_recognised_by_a_clause_opening_with_an_auxiliary(question):
    assert is_yes_no_question(question)


@pytest.mark.parametrize("question", [
    "What ethical issues should a company think about before rolling out AI?",
    "Why bother learning ML basics and jargon if I'm never going to build the models myself?",
    "Any examples of AI being used outside tech, say in transport or farming?",
    "How many weeks does Harvard's CS50 take to complete?",
    "Is it true? What does the guide say about monitoring?",  # a wh-clause asks for more than yes or no
    "Who taught the guide's author most of what she knows about ML?",
])
def test_open_questions_are_not_yes_no(question):
    assert not is_yes_no_question(question)
