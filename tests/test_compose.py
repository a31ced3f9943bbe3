from rag.answer import Timings
from rag.assistant import Assistant
from rag.citations import VerifyConfig
from rag.compose import REFUSAL_TEXT, UNANSWERED_TEXT, AnswerComposer, is_not_covered
from rag.prompting import select_passages


def _setup(built_index, embedder, question):
    a = Assistant.load(built_index, embedder=embedder)
    data = a.index
    qvec = embedder.embed_query(question)
    hits = a.search(question, 4)
    texts = {d: art.text for d, art in data.articles.items()}
    passages = select_passages(qvec, hits, texts, embedder, max_tokens=128, articles=data.articles)
    composer = AnswerComposer(embedder, built_index.corpus_dir, VerifyConfig())
    return composer, data, qvec, hits, passages


def test_citations_are_renumbered_in_order_of_first_use_with_exact_quotes(built_index, embedder):
    question = "Why is monitoring important for ML products?"
    composer, data, qvec, hits, passages = _setup(built_index, embedder, question)
    # Cite the passages in reverse order: the answer's first citation must become [1].
    last = passages[-1]
    first_sentence = data.articles[last.hit.doc_id].text[last.start:last.end].split(". ")[0] + "."
    raw = f"{first_sentence} [{last.n}]"
    ans = composer.answer(question, question, qvec, raw, passages, hits, data, Timings())
    assert not ans.refused and ans.raw_answer == raw
    assert [c.n for c in ans.citations] == [1] and ans.text.endswith("[1]")
    c = ans.citations[0]
    article = data.articles[c.doc_id].text
    assert article[c.quote_start:c.quote_end] == c.quote and c.quote in article[c.start:c.end]
    assert str(built_index.corpus_dir) in c.source


def test_nothing_supported_or_not_covered_gives_a_refusal_listing_three_nearest(built_index, embedder):
    question = "Why is monitoring important for ML products?"
    composer, data, qvec, hits, passages = _setup(built_index, embedder, question)
    for raw in ("NOT COVERED", "The capital of France is Paris and croissants are tasty [1]."):
        ans = composer.answer(question, question, qvec, raw, passages, hits, data, Timings())
        assert ans.refused and ans.text == UNANSWERED_TEXT and ans.raw_answer == raw, raw
        assert [c.n for c in ans.nearest] == [1, 2, 3] and not ans.citations
    gated = composer.refusal(question, question, qvec, hits, data, Timings(), llm_called=False)
    assert gated.text == REFUSAL_TEXT and not gated.llm_called
    # Each nearest passage quotes one of its own sentences, the one closest to the question.
    for c in gated.nearest:
        assert c.quote and c.quote in c.text and c.quote != c.text


def test_not_covered_is_the_whole_reply_not_a_mention():
    assert is_not_covered("NOT COVERED") and is_not_covered(" not covered.")
    assert not is_not_covered("Pricing is " + "not covered in depth by the articles, which focus on" * 2)
