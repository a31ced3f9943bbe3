import pytest

from rag.answer import Answer
from rag.assistant import Assistant
from rag.errors import EmptyQuestionError, IndexMissingError
from rag.indexing import update_index
from tests.conftest import make_settings
from tests.fakes import ScriptedChat

MONITORING = "product-management-with-a-data-science-mindset.md"


def test_off_corpus_question_is_refused_without_calling_the_llm(built_index, embedder):
    llm = ScriptedChat(reply="should never be used", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    ans = a.ask("What is a good recipe for sourdough bread?")
    assert ans.refused and not ans.llm_called and llm.calls == []
    assert "don't cover" in ans.text
    assert ans.nearest and all(c.text for c in ans.nearest)


def test_cited_answer_is_verified_and_renumbered(built_index, embedder):
    # The scripted model cites passage [3] for a sentence that passage [1] supports; the
    # verifier must point the citation at the passage that really says it.
    llm = ScriptedChat(reply="Monitoring is not optional [3]. It is the most under valued part of operationalizing ML solutions [3].", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    ans = a.ask("Why is monitoring important for ML products?")
    assert not ans.refused and ans.llm_called
    assert ans.citations and ans.citations[0].n == 1
    c = ans.citations[0]
    assert c.doc_id == MONITORING and "Monitoring is not optional" in c.text
    article = a.index.articles[c.doc_id].text
    assert article[c.start : c.end] == c.text and article[c.quote_start : c.quote_end] == c.quote
    assert "[1]" in ans.text and "[3]" not in ans.text
    assert all(s.supported for s in ans.sentences)


def test_model_saying_not_covered_gives_a_refusal(built_index, embedder):
    llm = ScriptedChat(reply="NOT COVERED", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    ans = a.ask("What salary should an ML PM ask for?")
    assert ans.refused and ans.nearest


def test_stream_yields_text_then_the_answer(built_index, embedder):
    llm = ScriptedChat(reply="Monitoring is not optional [1].", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    events = list(a.stream("Why is monitoring important for ML products?"))
    assert all(isinstance(e, str) for e in events[:-1]) and isinstance(events[-1], Answer)
    assert "".join(events[:-1]).strip() == "Monitoring is not optional [1]."


def test_empty_question_is_a_clear_error(built_index, embedder):
    a = Assistant.load(built_index, embedder=embedder, chat_model=ScriptedChat(calls=[]))
    with pytest.raises(EmptyQuestionError, match="empty"):
        a.ask("   ")


def test_no_index_says_how_to_build_one(tmp_path, cache_dir, embedder):
    with pytest.raises(IndexMissingError, match="pmrag index"):
        Assistant.load(make_settings(tmp_path, cache_dir), embedder=embedder)


def test_assistant_follows_a_rebuild(corpus_settings, embedder):
    update_index(corpus_settings, embedder)
    a = Assistant.load(corpus_settings, embedder=embedder, chat_model=ScriptedChat(calls=[]))
    assert not any("kanban" in h.chunk.text.lower() for h in a.search("kanban board WIP limits", 3))
    (corpus_settings.corpus_dir / "kanban.md").write_text(
        "---\ntitle: Kanban for PMs\n---\nA kanban board with WIP limits keeps the team focused.\n")
    update_index(corpus_settings, embedder)
    hits = a.search("kanban board WIP limits", 3)
    assert hits[0].doc_id == "kanban.md"
