import dataclasses
import json

from rag.answer import Answer, Citation, Reading, Rereading, SentenceCheck, Timings
from ui.render import (
    answer_html,
    debug_markdown,
    export_markdown,
    feedback_record,
    highlighted_passage,
    reading_note,
    rereading_note,
    source_html,
    status_markdown,
)

C = Citation(n=1, doc_id="a.md", title="T <x>", source="corpus/a.md", heading="H", start=100, end=140,
             text="Monitoring is vital. Models go stale fast.", score=0.7, quote_start=121, quote_end=141,
             quote="Models go stale fast")


def test_highlight_marks_the_quote_and_escapes_html():
    html = highlighted_passage(C)
    assert html == "Monitoring is vital. <mark>Models go stale fast</mark>."


def test_answer_html_flags_unsupported_sentences_and_lists_sources():
    ans = Answer("q", "Monitoring is vital [1]. Paris.", False, [C],
                 [SentenceCheck("Monitoring is vital.", [1], True, 0.8), SentenceCheck("Paris.", [], False, 0.1)])
    html = answer_html(ans)
    assert "<b>T &lt;x&gt;</b> › H" in html and "unsupported" in html and "[1]" in html
    assert "<mark>Models go stale fast</mark>" in html and "score 0.70" not in html and 'title="Closeness to your question: 0.70"' in html


def test_the_key_quote_is_marked_as_the_article_s_own_words():
    quote = SentenceCheck("“Models go stale fast.”", [1], True, 1.0, key_quote=True)
    html = answer_html(Answer("q", "Monitoring is vital [1]. “Models go stale fast.” [1]", False, [C],
                              [SentenceCheck("Monitoring is vital.", [1], True, 0.8), quote]))
    assert html.count("pm-key-quote") == 1 and "own sentence nearest your question\">“Models go stale" in html


def test_debug_view_shows_a_rewrite_that_was_not_used_and_why():
    ans = Answer("How much does it cost per month?", "Not covered.", True,
                 standalone_question="How much does it cost per month?",
                 timings=Timings(rewrite_ms=2100, retrieve_ms=90, total_ms=2300),
                 rewrite_proposed="What does the technical PM guy use as their IDE?",
                 rewrite_note='it drops words of the question: "cost", "month"; asked as typed')
    debug = debug_markdown(ans)
    assert ("**The model's rewrite, not used:** What does the technical PM guy use as their IDE? (it drops words"
            in debug)
    assert "rewrite 2100 ms · retrieve 90 ms" in debug
    plain = debug_markdown(Answer("q", "Not covered.", True))
    assert "not used" not in plain and "rewrite" not in plain.split("**Timings:**")[1]


def test_while_the_llm_reads_the_page_names_the_articles_and_a_follow_up_as_understood():
    one = Reading("Why monitor?", ["Mindset"], 1)
    assert reading_note(one, "Why monitor?") == "Reading 1 passage from “Mindset”…"
    three = Reading("How much does Cursor cost?", ["A", "B", "C"], 4)
    assert reading_note(three, "How much does it cost?") == (
        "Understood as: How much does Cursor cost? — Reading 4 passages from “A”, “B” and “C”…")


def test_the_second_reading_says_the_text_shown_is_a_draft():
    note = rereading_note(Rereading(4))
    assert note.startswith("Checking this draft: reading the 4 passages again") and "replaces it" in note
    assert "1 passage again" in rereading_note(Rereading(1))
    # With no draft shown (a held-back NOT COVERED, or `pmrag ask`), none is spoken of.
    assert rereading_note(Rereading(4), draft=False) == "Reading the 4 passages again in another order to check the answer…"


def test_a_follow_up_shows_how_it_was_understood_above_its_answer():
    follow = Answer("How much does it cost?", "Not covered.", True, nearest=[C],
                    standalone_question="How much does Cursor cost?")
    assert answer_html(follow).startswith('<p class="pm-asked">Understood as: How much does Cursor cost?</p>')
    same = Answer("Why monitor?", "Monitoring is vital [1].", False, [C],
                  [SentenceCheck("Monitoring is vital.", [1], True, 0.8)], standalone_question="why  monitor?")
    assert "Understood as" not in answer_html(same)


def test_refusal_lists_the_nearest_passages_instead_of_sources():
    html = answer_html(Answer("q", "Not covered.", True, nearest=[C]))
    assert "Nearest passages (1)" in html and "Sources" not in html and "pm-cite" not in html


def test_passages_stay_on_one_line_so_markdown_does_not_break_the_html():
    c = Citation(n=1, doc_id="a.md", title="T", source="", heading="", start=0, end=20,
                 text="## Not a heading\n\n* item", score=0.5)
    assert "\n" not in source_html(c, "[1]") and "## Not a heading * item" in source_html(c, "[1]")


def test_export_markdown_has_questions_answers_and_quotes():
    md = export_markdown([Answer("Why monitor?", "Because [1].", False, [C])])
    assert "## Q: Why monitor?" in md and "a.md" in md and "> Models go stale fast" in md


def test_export_markdown_keeps_unsupported_flags_and_how_a_follow_up_was_understood():
    """The file says what the page said: a reader of it must not take an unsupported
    sentence for a cited one, nor miss that a follow-up was asked otherwise."""
    ans = Answer("and how long?", "Monitoring is vital [1]. Paris.", False, [C],
                 [SentenceCheck("Monitoring is vital.", [1], True, 0.8), SentenceCheck("Paris.", [], False, 0.1)],
                 standalone_question="How long does monitoring take?", stopped_at=2)
    md = export_markdown([ans])
    assert "Monitoring is vital. [1] Paris. **⚠ unsupported**" in md
    assert "*Understood as: How long does monitoring take?*" in md
    assert "*You stopped the second reading" in md
    plain = export_markdown([Answer("Why monitor?", "Because [1].", False, [C], standalone_question="Why monitor?")])
    assert "Understood" not in plain and "stopped" not in plain and "Because [1]." in plain


def test_status_names_articles_models_and_build_time():
    md = status_markdown({"documents": {"a.md": {"title": "Zebra <notes>"}, "b.md": {}}, "chunks": 9,
                          "embed_model": "mini", "built_at": "2025-01-02T03:04:05Z"}, "llama-cpp:qwen")
    assert "2 articles" in md and "9 chunks" in md and "mini" in md and "qwen" in md
    assert "2025-01-02 03:04:05 UTC" in md
    assert "<li>b.md</li><li>Zebra &lt;notes&gt;</li>" in md  # every article listed, by title


def test_feedback_record_is_one_json_line_with_citations():
    row = json.loads(feedback_record(Answer("q", "a [1].", False, [C]), liked=True))
    assert row["liked"] and row["citations"][0]["title"] == "T <x>" and row["citations"][0]["quote"]


def test_a_source_names_its_author_and_date():
    """A sentence the byline supports ("Yael Gavish wrote the guide [1]") must show where
    that came from: the article's byline is in the source's heading line."""
    c = dataclasses.replace(C, byline="by Yael <Gavish>, published on 25 July 2017")
    assert "<b>T &lt;x&gt;</b>, by Yael &lt;Gavish&gt;, published on 25 July 2017 › H" in source_html(c, "[1]")
    assert "published" not in source_html(C, "[1]")
