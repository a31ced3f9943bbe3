"""The load test's failure report tells a refusal from an uncited answer, on the page's real HTML."""

import sys
from pathlib import Path

from rag.answer import Answer, Citation, SentenceCheck
from ui.render import answer_html

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from load_test import _why  # noqa: E402

C = Citation(n=1, doc_id="a.md", title="T", source="corpus/a.md", heading="H", start=0, end=20,
             text="Monitoring is vital.", score=0.7)
DEBUG = "**Raw model output:**\n\n```\nIt helps.\n```"


def test_a_refusal_on_the_page_is_reported_as_refused():
    refusal = Answer("q", "The articles in this collection don't cover that question.", True, nearest=[C])
    assert _why(answer_html(refusal), DEBUG) == "refused; model wrote: 'It helps.'"


def test_an_answer_without_citations_is_reported_as_uncited():
    uncited = Answer("q", "It helps.", False, sentences=[SentenceCheck("It helps.", [], False, 0.1)])
    assert _why(answer_html(uncited), DEBUG).startswith("no citation;")
