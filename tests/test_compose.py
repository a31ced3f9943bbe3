from rag.answer import Timings
from rag.assistant import Assistant
from rag.citations import VerifyConfig
from rag.compose import REFUSAL_TEXT, UNANSWERED_TEXT, AnswerComposer, is_not_covered
from tests.conftest import shown_passages


def _setup(built_index, embedder, question):
    data, qvec, hits, _, passages = shown_passages(built_index, embedder, question, 128)
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


def test_an_off_topic_refusal_lists_by_score_and_highlights_sentences_not_fragments(built_index, embedder):
    """Asked about mercury, the nearest passages came in fused rank (scores 0.00, 0.02, 0.03 as
    shown) and highlighted a list number ("2.") and a byline ("– Flavia Bergstein")."""
    question = "What is the boiling point of mercury in kelvin?"
    composer, data, qvec, hits, _ = _setup(built_index, embedder, question)
    ans = composer.refusal(question, question, qvec, hits, data, Timings(), llm_called=False)
    scores = [c.score for c in ans.nearest]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert [c.n for c in ans.nearest] == [1, 2, 3]
    assert all(len(c.quote.split()) >= 4 for c in ans.nearest), [c.quote for c in ans.nearest]


def test_not_covered_is_the_whole_reply_not_a_mention():
    assert is_not_covered("NOT COVERED") and is_not_covered(" not covered.")
    assert not is_not_covered("Pricing is " + "not covered in depth by the articles, which focus on" * 2)


def test_a_retried_answer_stands_only_if_most_of_its_claims_check_out(built_index, embedder):
    """Dev q23: pushed past its NOT COVERED, the model invented a pricing answer and added a
    true sentence from the ethics passage. A first answer that mixes the two is shown with the
    invented part flagged; after a retry, the model's own refusal wins."""
    question = "Why is monitoring important for ML products?"
    composer, data, qvec, hits, passages = _setup(built_index, embedder, question)
    p = passages[0]
    true = data.articles[p.hit.doc_id].text[p.start:p.end].split(". ")[0] + "."
    invented = "Price each AI feature at twice its compute cost to keep margins healthy."
    raw = f"{invented} [1] {true} [{p.n}]"
    first = composer.answer(question, question, qvec, raw, passages, hits, data, Timings())
    assert not first.refused and [s.supported for s in first.sentences] == [False, True]
    retried = composer.answer(question, question, qvec, raw, passages, hits, data, Timings(), retried=True)
    assert retried.refused and retried.text == UNANSWERED_TEXT and retried.raw_answer == raw
    # A bare verdict claims nothing of its own, so it does not count against the answer; a
    # retry's "Yes" is not shown at all (tests/test_key_quote.py).
    answered = composer.answer(question, question, qvec, f"No. {true} [{p.n}]", passages, hits, data, Timings(),
                               retried=True)
    assert not answered.refused and answered.sentences[0].text == "No."
    answered = composer.answer(question, question, qvec, f"Yes. {true} [{p.n}]", passages, hits, data, Timings(),
                               retried=True)
    assert not answered.refused and answered.sentences[0].text == true.strip()


def test_a_retried_answer_needs_more_support_per_claim(built_index, embedder):
    """A claim's support is judged against `retry_min_support` after a retry: the same reply
    stands as a first answer and is refused as a second try when its support lies between the
    two thresholds."""
    question = "Why is monitoring important for ML products?"
    composer, data, qvec, hits, passages = _setup(built_index, embedder, question)
    p = passages[0]
    paraphrase = data.articles[p.hit.doc_id].text[p.start:p.end].split(". ")[0].replace("the ", "a ") + "."
    raw = f"{paraphrase} [{p.n}]"
    support = composer.answer(question, question, qvec, raw, passages, hits, data, Timings()).sentences[0].support
    between = AnswerComposer(embedder, built_index.corpus_dir,
                             VerifyConfig(min_support=support - 0.01, retry_min_support=support + 0.01))
    first = between.answer(question, question, qvec, raw, passages, hits, data, Timings())
    assert not first.refused and first.sentences[0].supported
    retried = between.answer(question, question, qvec, raw, passages, hits, data, Timings(), retried=True)
    assert retried.refused and retried.text == UNANSWERED_TEXT
    # The defaults: 0.45 for a first answer, 0.50 after a retry (docs/answers.md, stop 26).
    assert (VerifyConfig().min_support, VerifyConfig().retry_min_support) == (0.45, 0.50)
    a = Assistant.load(built_index, embedder=embedder)
    assert a.composer.verify_config.retry_min_support == built_index.verify_retry_min_support == 0.50


def test_a_question_asking_for_a_number_needs_a_supported_sentence_that_states_one(built_index, embedder):
    """blind4 e20: "… is 1:2" (unsupported) padded with a true sentence made the answer stand."""
    question = "What's the ideal ratio of data scientists to engineers on a monitoring team?"
    composer, data, qvec, hits, passages = _setup(built_index, embedder, question)
    p = passages[0]
    true = data.articles[p.hit.doc_id].text[p.start:p.end].split(". ")[0] + "."
    raw = f"The ideal ratio of data scientists to engineers is 1:2. {true} [{p.n}]"
    ans = composer.answer(question, question, qvec, raw, passages, hits, data, Timings())
    assert ans.refused and ans.text == UNANSWERED_TEXT
    # The same padding answers a question that asks for no number.
    open_question = "Why does monitoring matter for ML products?"
    composer, data, qvec, hits, passages = _setup(built_index, embedder, open_question)
    p = passages[0]
    true = data.articles[p.hit.doc_id].text[p.start:p.end].split(". ")[0] + "."
    ans = composer.answer(open_question, open_question, qvec, f"Monitoring needs 1:2 staffing. {true} [{p.n}]",
                          passages, hits, data, Timings())
    assert not ans.refused


def test_only_an_invented_number_refuses_a_question_asking_for_one():
    """"How many courses …?" answered by naming them states no number and is judged as usual;
    a supported number answers it whatever else is flagged."""
    from rag.citations import CheckedSentence, Verification
    from rag.compose import _no_number_for

    named = Verification([CheckedSentence("He recommends the Harvard course and the Codecademy path.", [1], True, 0.8)])
    invented = Verification([CheckedSentence("He took 3 courses.", [], False, 0.3),
                             CheckedSentence("He recommends the Harvard course.", [1], True, 0.8)])
    stated = Verification([CheckedSentence("He took 3 courses.", [], False, 0.3),
                           CheckedSentence("The course took almost 18 months.", [1], True, 0.8)])
    question = "How many courses did he take?"
    assert not _no_number_for(question, named)
    assert _no_number_for(question, invented)
    assert not _no_number_for(question, stated)
    assert not _no_number_for("Which courses did he take?", invented)
