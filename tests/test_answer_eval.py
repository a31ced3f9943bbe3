"""`pmrag eval answers` scoring on a hand-computed case: fact matching, citation precision,
evidence recall, refusal rates. Running the assistant is covered elsewhere (test_cli,
test_llm_end_to_end), reading the QA file in test_qa_file; here the answers are built by
hand so every number can be checked."""

import numpy as np
import pytest

from rag.answer import Answer, Citation, Timings
from rag.answer_eval import AnswerReport, fact_found, fact_found_stemmed, run, score_item
from rag.documents import Article
from rag.errors import ConfigError
from rag.qa_file import Evidence, QAItem
from rag.store import IndexData

TEXT = "Models become stale over time. PMs are influencers, not managers. Monitoring is not optional."
DATA = IndexData({}, {"a.md": Article("a.md", "A", TEXT, "h", {"source_file": "orig-a.html"})}, [],
                 np.zeros((0, 384), np.float32))


def _cite(n: int, start: int, end: int) -> Citation:
    return Citation(n, "a.md", "A", "corpus/a.md", "", start, end, TEXT[start:end], 0.5)


def test_fact_matching_is_loose_about_case_punctuation_hyphens_and_quotes_only():
    assert fact_found("real-time feedback", "It gives Real Time feedback.")
    assert fact_found("PM’s edge", "the pm's edge is experience")
    assert not fact_found("influencer", "They are influencers.")  # whole words: strict figure
    assert fact_found_stemmed("influencer", "They are influencers.")
    assert fact_found_stemmed("ask questions", "Start by asking questions.")
    assert not fact_found_stemmed("monitoring", "Models become stale.")


def test_scores_a_hand_computed_case():
    gold_start = TEXT.index("PMs are influencers")
    item = QAItem("q1", "Do PMs manage people?", "No", ["influencer", "not managers"],
                  [Evidence("orig-a.html", "PMs are influencers, not managers.")])  # original file name
    on = _cite(1, gold_start - 5, gold_start + 10)  # overlaps the gold quote
    off = _cite(2, 0, 20)  # the first sentence: no overlap
    answer = Answer("Do PMs manage people?", "They are influencers, not managers [1]. Models go stale [2].",
                    False, [on, off])
    r = score_item(item, answer, DATA)
    assert (r.facts_found, r.facts_found_stemmed) == (1, 2)
    assert (r.citations, r.citations_on_evidence, r.evidence_total, r.evidence_covered) == (2, 1, 1, 1)

    unanswerable = QAItem("q2", "Salary?", None, [], [])
    refused = score_item(unanswerable, Answer("Salary?", "not covered", True), DATA)
    answered = score_item(unanswerable, Answer("Salary?", "Lots [1].", False, [off]), DATA)
    report = AnswerReport([r, refused, answered])
    s = report.summary()
    assert s["key_fact_recall"] == pytest.approx(0.5)
    assert s["key_fact_recall_stemmed"] == pytest.approx(1.0)
    # 3 citations on non-refused items (2 + the unanswerable one's), 1 on gold evidence
    assert s["citation_precision"] == pytest.approx(1 / 3, abs=1e-3)
    assert s["evidence_recall"] == pytest.approx(1.0)
    assert s["refusal_rate_unanswerable"] == pytest.approx(0.5)
    assert s["false_refusal_rate"] == pytest.approx(0.0)


def test_the_wait_from_the_question_is_reported_apart_from_the_first_token():
    """`wait_ms` counts a follow-up's rewrite and retrieval too; refusals that showed no text
    have none and stay out of its percentiles, as they do of the first token's."""
    item = QAItem("q1", "Why monitor?", "x", [], [])
    shown = [Answer("Why monitor?", "Models go stale.", False,
                    timings=Timings(rewrite_ms=1800, first_token_ms=5000, wait_ms=w, total_ms=9000))
             for w in (6900.0, 7100.0)]
    silent = Answer("Why monitor?", "not covered", True, timings=Timings(total_ms=200))
    report = AnswerReport([score_item(item, a, DATA) for a in [*shown, silent]])
    assert [r.wait_ms for r in report.items] == [6900.0, 7100.0, 0.0]
    s = report.summary()
    assert s["wait_ms_p50"] == pytest.approx(7000.0) and s["first_token_ms_p50"] == pytest.approx(5000.0)


def test_quote_missing_from_the_article_counts_as_not_covered():
    item = QAItem("q3", "?", "x", [], [Evidence("a.md", "a sentence that is not there")])
    r = score_item(item, Answer("?", "x [1].", False, [_cite(1, 0, len(TEXT))]), DATA)
    assert (r.evidence_total, r.evidence_covered, r.citations_on_evidence) == (1, 0, 0)


def test_a_follow_up_is_asked_after_its_history_alone_or_written_out():
    """`--history chat` passes the conversation (the assistant rewrites), `none` asks the bare
    follow-up (the baseline), `standalone` asks the written-out question; a question without
    history is asked the same way in every mode."""
    follow_up = QAItem("u1", "How much is it?", None, [], [], (("Which IDE?", "Cursor."),), "How much is Cursor?")
    plain = QAItem("q1", "Do PMs manage people?", None, [], [])
    for mode, expected in [("chat", ("How much is it?", [("Which IDE?", "Cursor.")])),
                           ("none", ("How much is it?", None)),
                           ("standalone", ("How much is Cursor?", None))]:
        calls: list = []

        def ask(question, history=None, calls=calls):
            calls.append((question, history))
            return Answer(question, "not covered", True, standalone_question=question.upper())

        report = run([follow_up, plain], ask, lambda: DATA, history_mode=mode)
        assert calls == [expected, ("Do PMs manage people?", None)]
        assert report.items[0].asked == expected[0].upper()  # the rewrite is reported per item
    with pytest.raises(ConfigError, match="u1: a follow-up needs 'standalone'"):
        run([QAItem("u1", "And?", None, [], [], (("q", "a"),))], ask, lambda: DATA, history_mode="standalone")
