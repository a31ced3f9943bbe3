"""`pmrag eval answers` scoring on a hand-computed case: fact matching, citation precision,
evidence recall, refusal rates. Running the assistant is covered elsewhere (test_cli,
test_llm_end_to_end); here the answers are built by hand so every number can be checked."""

from pathlib import Path

import numpy as np
import pytest

from rag.answer import Answer, Citation, Timings
from rag.answer_eval import (
    AnswerReport,
    Evidence,
    QAItem,
    fact_found,
    fact_found_stemmed,
    find_quote,
    gold_spans,
    read_qa,
    run,
    score_item,
)
from rag.documents import Article
from rag.errors import ConfigError
from rag.store import FaissStore, IndexData

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


def test_evidence_may_name_its_article_as_a_path_or_without_its_extension():
    quote = "PMs are influencers, not managers."
    for doc in ("a.md", "orig-a.html", "corpus/a.md", "/home/me/seeds/orig-a.html", "a", "orig-a", "corpus\\a.md"):
        item = QAItem("x", "q", "ans", [], [Evidence(doc, quote)])
        assert gold_spans(item, DATA) == [("a.md", TEXT.index(quote), TEXT.index(quote) + len(quote))], doc
    for doc in ("b.md", "", "corpus/"):
        assert gold_spans(QAItem("x", "q", "ans", [], [Evidence(doc, quote)]), DATA) == [(doc, -1, -1)]


def test_read_qa_names_the_bad_line(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"id": 1, "question": "q", "answer": null}\n{"id": 2}\n')
    with pytest.raises(ConfigError, match=r"qa.jsonl:2: not a QA item"):
        read_qa(path)


def test_read_qa_takes_a_byte_order_mark_and_a_lone_must_include_phrase(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('\ufeff{"id": "a", "question": "q?", "answer": "x", "must_include": "data science"}\n',
                    encoding="utf-8")
    (item,) = read_qa(path)
    assert item.id == "a" and item.must_include == ["data science"]
    path.write_text('{"id": "b", "question": "q?", "answer": "x", "must_include": [1, 2]}\n')
    with pytest.raises(ConfigError, match=r"qa.jsonl:1: not a QA item \(must_include must be a list of strings"):
        read_qa(path)


@pytest.mark.parametrize("name", ["dev_qa.jsonl", "fresh_qa.jsonl", "followup_qa.jsonl", "blind_qa.jsonl",
                                  "blind2_qa.jsonl"])
def test_the_repos_question_sets_quote_the_indexed_articles_exactly(name, built_index):
    """A gold quote the indexed text does not contain silently counts as never cited, so
    every quote of every set must be found in the real index of corpus/."""
    items = read_qa(Path(__file__).resolve().parents[1] / "eval" / name)
    data = FaissStore(built_index.index_dir).load()
    assert items and all(item.answerable == bool(item.evidence) for item in items)
    missing = [(item.id, span) for item in items for span in gold_spans(item, data) if span[1] < 0]
    assert not missing


def test_a_quote_copied_from_the_original_file_is_found_despite_its_line_breaks_and_quote_marks():
    """The seeds put one newline between paragraphs where corpus/ has a blank line, and a
    maintainer may type straight quotes: such a quote must still count, at the right offsets."""
    text = "Intro.\n\nYou don’t actually manage anyone.\n\n- the business space (selling your features up),\n- next"
    quote = "You don't actually manage anyone.\n- the business space"
    start, end = find_quote(text, quote)
    assert text[start:end] == "You don’t actually manage anyone.\n\n- the business space"
    assert find_quote(text, "Intro.") == (0, 6)
    assert find_quote(text, "you do not manage") is None
    assert find_quote(text, "  ") is None


def test_a_quote_that_leaves_words_out_spans_its_parts_in_order():
    """A maintainer may shorten a gold quote with "..." or "…"; it must still count, from its
    first part to its last, and only when the parts stand in that order, close together."""
    text = "Intro. The relationship with the DS team is key. It is the only mechanism you have. End."
    span = find_quote(text, "The relationship with the DS team ... is the only mechanism you have.")
    assert span is not None and text[span[0]:span[1]] == text[7:83]
    assert find_quote(text, "…the only mechanism you have") == (55, 82)
    assert find_quote(text, "the relationship [...] END") == (7, 87)
    assert find_quote(text, "End ... Intro") is None  # out of order
    assert find_quote("A b. " + "x " * 1000 + "C d.", "A b. … C d.") is None  # too far apart
    assert find_quote(text, "...") is None


def test_a_follow_up_is_read_with_its_history_and_written_out_question(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text(
        '{"id": "u1", "history": [["Which IDE?", "Cursor [1]."]], "question": "How much is it?",'
        ' "standalone": "How much is Cursor?", "answer": null}\n'
        '{"id": "u2", "history": [{"question": "Who wrote it?", "answer": "Yael."}], "question": "When?",'
        ' "answer": null}\n'
        '{"id": "u3", "history": [["only a question"]], "question": "q", "answer": null}\n')
    with pytest.raises(ConfigError, match=r"qa.jsonl:3: not a QA item"):
        read_qa(path)
    path.write_text("\n".join(path.read_text().splitlines()[:2]))
    first, second = read_qa(path)
    assert first.history == (("Which IDE?", "Cursor [1]."),) and first.standalone == "How much is Cursor?"
    assert second.history == (("Who wrote it?", "Yael."),) and second.standalone == ""


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
