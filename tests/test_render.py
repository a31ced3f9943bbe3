from rag.answer import Answer, Citation, SentenceCheck
from ui.render import answer_html, export_markdown, highlighted_passage

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
    assert "T &lt;x&gt; › H" in html and "unsupported" in html and "[1]" in html


def test_export_markdown_has_questions_answers_and_quotes():
    md = export_markdown([Answer("Why monitor?", "Because [1].", False, [C])])
    assert "## Q: Why monitor?" in md and "a.md" in md and "> Models go stale fast" in md
