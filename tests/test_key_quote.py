"""rag.key_quote: a yes/no question's answer ends with the article's sentence nearest to it."""

from rag.answer import Timings
from rag.chunking import Chunk
from rag.citations import VerifyConfig
from rag.compose import AnswerComposer
from rag.config import Settings
from rag.key_quote import key_quote
from rag.passages import Passage
from rag.retrieval import Hit
from tests.conftest import shown_passages

# Fresh f10: the model answered "Yes ... you still need to understand the problem", while the
# article's stance is the sentence below.
QUESTION = "As an ML PM, am I still the one who designs the whole feature?"
STANCE = "As an ML PM you still need that skill set, except now you don’t design everything."


def _setup(built_index, embedder, question):
    return shown_passages(built_index, embedder, question, 130)


def _quote(built_index, embedder, question, said, min_similarity=0.5):
    data, qvec, _, texts, passages = _setup(built_index, embedder, question)
    return key_quote(question, qvec, passages, texts, embedder, said, min_similarity=min_similarity), texts, passages


def test_a_yes_no_question_gets_the_article_sentence_nearest_to_it(built_index, embedder):
    quote, texts, passages = _quote(built_index, embedder, QUESTION, ["Yes, you still need to understand the problem."])
    assert quote is not None and quote.text == STANCE
    p = next(p for p in passages if p.n == quote.n)
    assert texts[p.hit.doc_id][quote.start:quote.end] == STANCE and p.start <= quote.start < quote.end <= p.end


def test_no_quote_when_the_answer_says_it_already_or_it_is_not_close(built_index, embedder):
    assert _quote(built_index, embedder, QUESTION, [STANCE])[0] is None
    assert _quote(built_index, embedder, QUESTION, ["Yes."], min_similarity=0.95)[0] is None
    assert _quote(built_index, embedder, QUESTION, ["Yes."], min_similarity=0)[0] is None  # turned off


def test_an_open_question_gets_no_quote(built_index, embedder):
    # Dev q01: the sentence most like it restates the situation asked about, not an answer.
    question = "The DS team's model looks really complex — how can I tell whether it'll be hard to productionize?"
    assert _quote(built_index, embedder, question, ["The DS team will be focused on the problem."], 0.3)[0] is None


def test_the_answer_ends_with_the_quote_cited_and_supported(built_index, embedder):
    data, qvec, hits, texts, passages = _setup(built_index, embedder, QUESTION)
    first = passages[0]
    sentence = texts[first.hit.doc_id][first.start:first.end].split(". ")[0].strip().rstrip(".") + "."
    raw = f"{sentence} [{first.n}]"
    composer = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig(), key_quote_min=0.5)
    ans = composer.answer(QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings())
    assert not ans.refused
    last = ans.sentences[-1]
    assert last.text == f"“{STANCE}”" and last.supported and len(last.citations) == 1
    cited = ans.citations[last.citations[0] - 1]
    assert STANCE in cited.text and ans.text.endswith(f"“{STANCE}” [{cited.n}]")
    off = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig(), key_quote_min=0)
    assert STANCE not in off.answer(QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings()).text


def test_the_composer_default_is_the_setting_default(embedder, tmp_path):
    assert AnswerComposer(embedder, tmp_path, VerifyConfig()).key_quote_min == Settings().key_quote_min_similarity


def test_a_bulleted_sentence_is_quoted_and_spanned_without_its_bullet(embedder):
    text = "Roles.\n- As an ML PM you still need that skill set, except now you don’t design everything.\n"
    chunk = Chunk("a.md", 0, 0, len(text), "", text)
    passage = Passage(1, Hit(chunk, "A", 1.0, 1.0, 0.0, 0), 0, len(text), text)
    quote = key_quote(QUESTION, embedder.embed_query(QUESTION), [passage], {"a.md": text}, embedder, ["Yes."],
                      min_similarity=0.5)
    assert quote is not None and quote.text == STANCE and text[quote.start:quote.end] == STANCE


def test_a_bare_verdict_is_answered_with_the_quote_not_refused(built_index, embedder):
    """Blind b02: the model's whole answer was "Yes, <the question restated>", a bare verdict
    no passage can support. With the article's sentence nearest to the question it is an
    answer (the verdict flagged, the quote cited); without one, a refusal as before."""
    data, qvec, hits, texts, passages = _setup(built_index, embedder, QUESTION)
    raw = "Yes, as an ML PM, you are still the one who designs the whole feature."
    ans = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig()).answer(
        QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings())
    assert not ans.refused
    assert [(s.text, s.supported) for s in ans.sentences] == [(raw, False), (f"“{STANCE}”", True)]
    off = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig(), key_quote_min=0)
    assert off.answer(QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings()).refused


def test_a_retry_s_yes_is_dropped_and_the_quote_answers(built_index, embedder):
    """Fresh f10: forced past its NOT COVERED, the model opens "Yes, …" whatever the article
    says (10 of 14 such questions in the stop-41 recordings, f10 among them). On a retry the
    "Yes" is not shown; the claim after it opens the answer, and the article's stance ends it.
    On a first reading, where the model chose its verdict, it stays, flagged as before."""
    data, qvec, hits, texts, passages = _setup(built_index, embedder, QUESTION)
    first = passages[0]
    claim = texts[first.hit.doc_id][first.start:first.end].split(". ")[0].strip().rstrip(".")
    raw = f"Yes, {claim[0].lower()}{claim[1:]}. [{first.n}]"
    composer = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig())
    retried = composer.answer(QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings(), retried=True)
    assert not retried.refused and not retried.text.lower().startswith("yes")
    assert retried.sentences[0].text == f"{claim}." and retried.sentences[0].supported
    assert retried.sentences[-1].text == f"“{STANCE}”" and retried.sentences[-1].key_quote
    first_reading = composer.answer(QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings())
    assert first_reading.text.startswith("Yes,") and not first_reading.sentences[0].supported


def test_a_retry_that_is_only_a_yes_is_answered_by_the_quote_alone(built_index, embedder):
    data, qvec, hits, texts, passages = _setup(built_index, embedder, QUESTION)
    raw = "Yes, as an ML PM, you are still the one who designs the whole feature."
    ans = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig()).answer(
        QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings(), retried=True)
    assert not ans.refused and [s.text for s in ans.sentences] == [f"“{STANCE}”"]
    no_quote = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig(), key_quote_min=0)
    assert no_quote.answer(QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings(), retried=True).refused


def test_a_retry_s_no_stays(built_index, embedder):
    """A "No" goes against the retry's push to agree, and was right both times it came."""
    data, qvec, hits, texts, passages = _setup(built_index, embedder, QUESTION)
    raw = "No, as an ML PM, you are not the one who designs the whole feature."
    ans = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig()).answer(
        QUESTION, QUESTION, qvec, raw, passages, hits, data, Timings(), retried=True)
    assert not ans.refused and ans.text.startswith("No,")
