"""PassageSupport scored directly: the rules that zero a passage's support, each against a
passage that would otherwise support the sentence (real embedding model)."""

from rag.chunking import Chunk
from rag.citations import VerifyConfig
from rag.passages import Passage
from rag.retrieval import Hit
from rag.support import PassageSupport

ARTICLES = {
    "course.md": "The Codecademy course took almost 18 months to finish. Is it worth it? I think so.",
    "other.md": "The statistics course took almost 18 months as well, and it was hard work.",
}


def _passages() -> list[Passage]:
    out = []
    for n, doc in enumerate(ARTICLES, start=1):
        text = ARTICLES[doc]
        out.append(Passage(n, Hit(Chunk(doc, 0, 0, len(text), "", text), doc, 1.0, 0.5, 1.0, n), 0, len(text), text))
    return out


def _scorer(embedder, question: str) -> PassageSupport:
    return PassageSupport.build(_passages(), ARTICLES, embedder, question, VerifyConfig().lexical_weight)


def test_the_passage_sentences_are_split_and_embedded_once_and_questions_marked(embedder):
    scorer = _scorer(embedder, "How long did the Codecademy course take?")
    assert scorer.ptexts[:3] == ["The Codecademy course took almost 18 months to finish.", "Is it worth it?", "I think so."]
    assert scorer.pvecs.shape == (len(scorer.ptexts), embedder.dim)
    assert scorer.asking[:3] == [False, True, False]


def test_a_stated_quantity_is_supported_and_an_invented_one_is_not(embedder):
    scorer = _scorer(embedder, "How long did the Codecademy course take?")
    stated, best = scorer.support_alone("The Codecademy course took almost 18 months.")[1:]
    assert stated[0] >= VerifyConfig().min_support
    assert scorer.ptexts[best[0]] == "The Codecademy course took almost 18 months to finish."
    invented = scorer.support_alone("The Codecademy course took almost 3 months.")[1]
    assert invented.max() == 0.0  # neither passage states 3 months


def test_a_named_thing_the_question_asks_about_needs_a_passage_that_names_it(embedder):
    """Both passages took 18 months; only the first is about the Codecademy course."""
    scorer = _scorer(embedder, "How long did the Codecademy course take?")
    blended = scorer.support_alone("The Codecademy course took 18 months.")[1]
    assert blended[0] > 0 and blended[1] == 0.0


def test_the_questions_own_words_are_no_lexical_evidence(embedder):
    """A sentence made only of the question's words scores on embedding similarity alone:
    half the blend, where the same sentence scores whole when its words are not asked."""
    sentence = "The Codecademy course took almost 18 months to finish."
    echoed = _scorer(embedder, "Codecademy course took almost 18 months to finish?").support_alone(sentence)[1]
    fresh = _scorer(embedder, "How long was it?").support_alone(sentence)[1]
    assert abs(fresh[0] - 1.0) < 1e-4 and abs(echoed[0] - 0.5) < 1e-4
