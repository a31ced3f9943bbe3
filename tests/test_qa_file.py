"""Reading a QA file and locating its gold evidence: bad lines named, a maintainer's file
read as meant (byte-order mark, lone phrase, evidence named by path, quotes copied from the
original file or shortened with an ellipsis), and every quote of the repo's sets found in the
real index."""

from pathlib import Path

import numpy as np
import pytest

from rag.documents import Article
from rag.errors import ConfigError
from rag.qa_file import Evidence, QAItem, find_quote, gold_spans, read_qa
from rag.store import FaissStore, IndexData

TEXT = "Models become stale over time. PMs are influencers, not managers. Monitoring is not optional."
DATA = IndexData({}, {"a.md": Article("a.md", "A", TEXT, "h", {"source_file": "orig-a.html"})}, [],
                 np.zeros((0, 384), np.float32))


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
                                  "blind2_qa.jsonl", "blind3_qa.jsonl", "blind4_qa.jsonl", "blind5_qa.jsonl",
                                  "long_qa.jsonl"])
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
