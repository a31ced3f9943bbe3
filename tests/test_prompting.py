"""Prompt building decisions that are not covered with the passages in test_citations.py."""

import pytest

from rag.chunking import Chunk
from rag.passages import Passage
from rag.prompting import build_messages, is_yes_no_question
from rag.retrieval import Hit


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


def _passages() -> list[Passage]:
    text = "If my ambition was to become a full-time engineer, I would be more wary about relying on AI."
    return [Passage(1, Hit(Chunk("ai.md", 0, 0, len(text), "", text), "ai.md", 1.0, 0.5, 1.0, 1), 0, len(text), text)]


def test_a_yes_no_questions_retry_asks_what_the_passages_say_and_keeps_the_cached_prefix():
    question = "If I wanted to become a full-time engineer, would the author still lean on AI?"
    first = build_messages(question, _passages())[1][1]
    retry = build_messages(question, _passages(), retry=True)[1][1]
    assert f"Question: What do the passages say about this: {question}\n" in retry
    assert "do answer this question" not in retry
    prefix = first.split("Question:")[0]
    assert retry.startswith(prefix) and len(prefix) > len(_passages()[0].text)  # passages stay cached


def test_an_open_questions_retry_keeps_the_question_and_insists_on_an_answer():
    question = "What would the author do if he wanted to become a full-time engineer?"
    first = build_messages(question, _passages())[1][1]
    retry = build_messages(question, _passages(), retry=True)[1][1]
    assert f"Question: {question}\n" in retry and "do answer this question" in retry
    assert first.rsplit("\n\n", 1)[0] == retry.rsplit("\n\n", 1)[0]
    # A developer's retry wording (benchmarks/answer_tuning.py retry --instruction) replaces
    # only the closing instruction.
    other = build_messages(question, _passages(), retry=True, retry_instruction="Quote the passages.")[1][1]
    assert other == retry.rsplit("\n\n", 1)[0] + "\n\nQuote the passages."


def test_an_articles_byline_is_shown_once_when_the_question_asks_about_its_source():
    """The article text has no byline (front matter is metadata), so without it the model
    answered "Who wrote the step-by-step guide?" with names from the acknowledgements. Other
    questions get none: extra context reshuffles the small model's answers."""
    texts = ["Start with the problem.", "Then collect data.", "Talk to data scientists."]
    docs = ["guide.md", "guide.md", "other.md"]
    passages = [Passage(n, Hit(Chunk(d, n, 0, len(t), "", t), d.removesuffix(".md").title(), 1.0, 0.5, 1.0, n),
                        0, len(t), t, "by Yael Gavish, published on 25 July 2017" if d == "guide.md" else "")
                for n, (d, t) in enumerate(zip(docs, texts, strict=True), start=1)]
    for question in ["Who wrote the guide?", "When was the guide published?", "What does Gavish say about data?"]:
        user = build_messages(question, passages)[1][1]
        assert "[1] (Guide, by Yael Gavish, published on 25 July 2017)" in user, question
        assert "[2] (Guide)" in user and "[3] (Other, author and date not given)" in user
        assert user.count("Yael Gavish") == 1
    # A month of the byline's date names no article.
    for question in ["What should I do first?", "Who taught the guide's author about ML?", "Who owns the roadmap?",
                     "What should we ship in July?"]:
        user = build_messages(question, passages)[1][1]
        assert "Yael Gavish" not in user and "not given" not in user and "[1] (Guide)" in user, question


def test_reply_labels_are_left_out_of_the_prompt_but_not_out_of_the_passage():
    """Shown "B] AI has been employed ...", the model answered "B [2] and C [4]" (blind b06)."""
    text = ("B] AI has been employed in healthcare and retail.\n\nC] Within the EdTech industry, AI grades"
            " answers. Plan B] is not a label mid-line.")
    passage = Passage(1, Hit(Chunk("n.md", 0, 0, len(text), "", text), "n.md", 1.0, 0.5, 1.0, 1), 0, len(text), text)
    prompt = build_messages("Any real examples of AI in retail?", [passage])[1][1]
    assert "AI has been employed in healthcare" in prompt and "B] AI" not in prompt and "C] Within" not in prompt
    assert "Plan B] is" in prompt
    assert passage.text.startswith("B] AI")
