"""Passages: the window of each hit shown to the model, and its run-on into a list or its section."""

from rag.chunking import Chunk
from rag.passages import _continuation_end, select_passages, sentence_spans
from rag.retrieval import Hit


def test_sentences_are_split_at_their_ends_but_not_after_an_abbreviation():
    text = "Take a basic course (e.g. simple linear regression). Then build.\nA new line"
    spans = sentence_spans(text, offset=10)
    assert [text[s - 10 : e - 10] for s, e in spans] == [
        "Take a basic course (e.g. simple linear regression).", "Then build.", "A new line"]


def test_a_passage_ending_in_a_colon_runs_on_into_its_list(embedder):
    """The chunker cut "It helps me in two main areas:" from its two bullets, and shown the
    announcement alone the model invented the list (blind2 c01)."""
    intro = "I use Cursor as my IDE. It helps me in two main areas:"
    text = (f"{intro}\n\n  • I can ask it to write code for me from prompts\n"
            "  • I can ask it to review my code\n\nIf my ambition was to be an engineer, I would be more wary.")
    hit = Hit(Chunk("blog.md", 0, 0, len(intro), "", intro), "blog.md", 1.0, 0.5, 1.0, 1)
    qvec = embedder.embed_query("What does he use Cursor for?")
    (passage,) = select_passages(qvec, [hit], {"blog.md": text}, embedder, max_tokens=130)
    assert passage.text == text[: text.index("\n\nIf my")] and passage.text.endswith("review my code")
    assert passage.text == text[passage.start : passage.end]
    # Within the budget only: a list too long for it is cut at a whole sentence.
    (short,) = select_passages(qvec, [hit], {"blog.md": text}, embedder, max_tokens=20)
    assert short.text.endswith("from prompts")
    # A window that does not end in a colon stays inside its chunk.
    plain = "I use Cursor as my IDE. It helps me a lot."
    hit = Hit(Chunk("blog.md", 0, 0, len(plain), "", plain), "blog.md", 1.0, 0.5, 1.0, 1)
    (passage,) = select_passages(qvec, [hit], {"blog.md": plain + "\n\n  • a bullet"}, embedder, max_tokens=130)
    assert passage.text == plain


class _WordCounter:
    """Counts words as tokens: all `_continuation_end` asks of an embedder."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_a_run_on_never_ends_inside_the_sentence_its_read_ahead_cut():
    """The run-on reads 8 characters per budget token ahead, so the read-ahead can cut a list
    item, and ending the passage there would show half a sentence. With English words the cut
    item overruns the budget anyway; with very long ones (a URL) it need not."""
    intro = "It helps me in two areas:"
    text = f"{intro}\n- First item.\n- Second item is {'verylongword' * 10} indeed."
    end = _continuation_end(text, len(intro), _WordCounter(), max_tokens=10)  # reads 80 characters
    assert text[:end].endswith("- First item.")
    # Read ahead to the article's end, the last item is whole and kept.
    end = _continuation_end(text, len(intro), _WordCounter(), max_tokens=30)
    assert end == len(text)


def test_the_first_passage_runs_on_past_its_chunk_within_its_section(embedder):
    """The answer often goes on past the top hit's chunk (blind5 g18: "Learn a little bit about
    unsupervised learning, regression, and classification" follows the chunk that was found).
    With a lead budget the first window grows into the text around its chunk, but not past a
    heading; the other passages stay inside their chunks."""
    found = "I would continue to concentrate only on the user if I were you. AI success depends on user needs."
    text = ("## Question 3\n\nA reader asked how to start. "
            f"{found} Learn a little bit about unsupervised learning, regression and classification at a high level."
            " Then pick a course.\n\n## Question 4\n\nHow much do AI PMs earn?")
    start = text.index(found)
    hit = Hit(Chunk("news.md", 3, start, start + len(found), "Question 3", found), "News", 1.0, 0.5, 1.0, 1)
    other_text = "Monitoring is not optional. Models go stale."
    other = Hit(Chunk("mon.md", 0, 0, len(other_text), "", other_text), "Mon", 0.9, 0.4, 0.9, 2)
    texts = {"news.md": text, "mon.md": other_text + " More text after the chunk."}
    qvec = embedder.embed_query("Did he still suggest learning any ML concepts?")
    plain = select_passages(qvec, [hit, other], texts, embedder, max_tokens=130)
    assert plain[0].text == found
    lead, second = select_passages(qvec, [hit, other], texts, embedder, max_tokens=130, lead_tokens=200)
    assert "unsupervised learning" in lead.text and lead.text == text[lead.start : lead.end]
    assert "Question" not in lead.text and "How much" not in lead.text
    assert second.text == other_text


def test_a_reply_is_shown_with_its_own_signature_not_the_one_before_it(embedder):
    """The newsletter signs each reply on the line under it, so a chunk opened with the previous
    reply's signer and ended before its own, and the model credited the reply to the wrong
    person (blind6 h05: "Dhiraj Mehta" for Gerard Kolan's words)."""
    reply = "B] Absolutely agreed. Experience is more important than parameters or tokens."
    text = f"A] Learn regression first.\n\n– Dhiraj Mehta\n\n{reply}\n\n– Gerard Kolan\n\nC] Read Lenny."
    start = text.index("– Dhiraj")
    chunk = text[start : text.index(reply) + len(reply)]
    hit = Hit(Chunk("news.md", 1, start, start + len(chunk), "Discussion", chunk), "News", 1.0, 0.5, 1.0, 1)
    qvec = embedder.embed_query("Who said experience matters more than parameters or tokens?")
    (passage,) = select_passages(qvec, [hit], {"news.md": text}, embedder, max_tokens=130)
    assert passage.text == f"{reply}\n\n– Gerard Kolan"
    assert passage.text == text[passage.start : passage.end]
    # A hyphen may open a bullet: "- Work Together" is no signature.
    bullets = "Do this:\n- Listen First\n- Work Together"
    hit = Hit(Chunk("s.md", 0, 0, len("Do this:\n- Listen First"), "", "Do this:\n- Listen First"), "S", 1.0, 0.5, 1.0, 1)
    (passage,) = select_passages(qvec, [hit], {"s.md": bullets + "\n\nMore."}, embedder, max_tokens=130)
    assert "Listen First" in passage.text
