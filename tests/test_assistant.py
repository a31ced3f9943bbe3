import re

import pytest

from rag.answer import Answer, Reading, Rereading
from rag.assistant import GATE_DEPTH, Assistant
from rag.errors import EmptyQuestionError, IndexMissingError
from rag.indexing import update_index
from rag.passages import sentence_spans
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


def test_the_question_is_embedded_once(built_index, embedder, monkeypatch):
    """Retrieval and passage selection share one query vector: each embed_query costs ~0.1 s
    on 2 cores before the first token."""
    calls = []
    real = embedder.embed_query
    monkeypatch.setattr(embedder, "embed_query", lambda text: calls.append(text) or real(text))
    a = Assistant.load(built_index, embedder=embedder,
                       chat_model=ScriptedChat(reply="Monitoring is not optional [1].", calls=[]))
    assert not a.ask("Why is monitoring important for ML products?").refused
    assert calls == ["Why is monitoring important for ML products?"]


def test_which_article_answered_with_passage_numbers_names_the_articles_without_a_retry(one_reading, embedder):
    """The small model answers "Which article ...?" with "[1] and [3]" or "[2] covers ...": the
    markers stand for articles, so the answer names them instead of being retried as bare
    markers or refused as the question's own words."""
    llm = ScriptedChat(reply="[1] covers why monitoring matters for ML products.", calls=[])
    a = Assistant.load(one_reading, embedder=embedder, chat_model=llm)
    ans = a.ask("Which article explains why monitoring matters for ML products?")
    assert len(llm.calls) == 1 and not ans.refused, ans.text
    assert ans.text.startswith("“Product Management with a Data Science Mindset” covers why monitoring")
    assert [c.doc_id for c in ans.citations] == [MONITORING]
    assert ans.raw_answer.strip() == "[1] covers why monitoring matters for ML products."  # the model's own text


def test_a_follow_up_says_which_rewrite_was_not_used_and_why(built_index, embedder):
    """The scripted model answers the rewrite with an answer, which drops the follow-up's
    words: the question is asked as typed, and the answer says what was proposed and why."""
    reply = "Monitoring is not optional [1]."
    llm = ScriptedChat(reply=reply, calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    history = [("Why is monitoring important for ML products?", "Models go stale without anyone noticing. [1]")]
    ans = a.ask("And why is it undervalued?", history=history)
    assert ans.standalone_question == "And why is it undervalued?"
    assert ans.rewrite_proposed == reply.strip() and ans.rewrite_note.endswith("; asked as typed")
    assert '"undervalued"' in ans.rewrite_note
    assert ans.to_dict()["rewrite_note"] == ans.rewrite_note
    assert ans.timings.rewrite_ms > 0 and ans.timings.wait_ms == 0  # refused: no answer text came
    alone = a.ask("Why is monitoring important for ML products?")
    assert not alone.refused and alone.rewrite_note == "" and alone.timings.rewrite_ms < 1
    t = alone.timings
    assert t.wait_ms >= t.retrieve_ms + t.first_token_ms > 0  # what the reader waits, from the question


def test_a_refusal_quotes_the_sentence_of_each_nearest_passage_closest_to_the_question(built_index, embedder):
    """A refusal lists the nearest passages; each one's quote is its single sentence most like
    the question, so the page marks what the articles say nearest to what was asked."""
    llm = ScriptedChat(reply="NOT COVERED", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    question = "Why is monitoring important for ML products?"
    ans = a.ask(question)
    assert ans.refused and ans.llm_called and len(ans.nearest) == 3
    # The articles were close enough to ask the LLM, so "they don't cover it" may be false.
    assert "couldn't find a clear answer" in ans.text and "don't cover" not in ans.text
    qvec = embedder.embed_query(question)
    for c in ans.nearest:
        article = a.index.articles[c.doc_id].text
        assert c.start <= c.quote_start < c.quote_end <= c.end and c.quote == article[c.quote_start:c.quote_end]
        assert len(c.quote) < len(c.text)  # one sentence, not the whole passage
        sentences = [article[s:e] for s, e in sentence_spans(c.text, c.start)]
        assert c.quote in sentences
        sims = embedder.embed(sentences) @ qvec
        assert c.quote == sentences[int(sims.argmax())]
    assert "onitor" in ans.nearest[0].quote


def test_relevance_gate_looks_past_the_passages_shown(one_reading, embedder):
    """Dev q49: its closest passage ranks below the 4 shown after fusion. The gate was
    calibrated on the best of the top 20 candidates, so the LLM must still be asked."""
    question = "Can I count on the DS team hitting the accuracy target I set?"
    llm = ScriptedChat(reply="NOT COVERED", calls=[])
    a = Assistant.load(one_reading, embedder=embedder, chat_model=llm)
    floor, _ = a.settings.relevance_gates()
    shown = max(h.dense for h in a.search(question, a.settings.top_k))
    assert shown < floor <= max(h.dense for h in a.search(question, GATE_DEPTH))  # the case itself
    ans = a.ask(question)
    assert ans.llm_called and len(llm.calls) == 1 and ans.refused


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


def test_stream_with_progress_says_what_the_llm_reads_before_the_text(built_index, embedder):
    llm = ScriptedChat(reply="Monitoring is not optional [1].", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    events = list(a.stream("Why is monitoring important for ML products?", progress=True))
    reading, *text, rereading, answer = events
    assert isinstance(reading, Reading) and isinstance(answer, Answer) and all(isinstance(e, str) for e in text)
    assert isinstance(rereading, Rereading) and rereading.passages == 4  # read again in another order
    assert reading.question == "Why is monitoring important for ML products?" and reading.passages == 4
    assert reading.titles[0] == answer.citations[0].title and len(set(reading.titles)) == len(reading.titles)
    # Refused without the LLM: nothing is read, so no progress note.
    off = list(a.stream("What is a good recipe for sourdough bread?", progress=True))
    assert len(off) == 1 and isinstance(off[0], Answer) and off[0].refused


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


def test_a_new_articles_author_is_known_after_a_rebuild(corpus_settings, embedder):
    """The article names are indexed once per loaded index (rag.article_names): a question
    before the rebuild indexes them, and one after it must find the new article's author."""
    def titles_read(a: Assistant, question: str) -> list[str]:
        return next(e.titles for e in a.stream(question, progress=True) if isinstance(e, Reading))

    update_index(corpus_settings, embedder)
    a = Assistant.load(corpus_settings, embedder=embedder, chat_model=ScriptedChat(reply="Monitoring [1].", calls=[]))
    question = "What does Okafor say about WIP limits on a kanban board for the data science team?"
    before = titles_read(a, "Why is monitoring important for ML products?")
    (corpus_settings.corpus_dir / "kanban.md").write_text(
        "---\ntitle: Kanban for PMs\nauthor: Dana Okafor\n---\nA kanban board with WIP limits keeps the data "
        "science team focused on one model at a time.\n")
    update_index(corpus_settings, embedder)
    # Named by her surname, only her article is read; a stale index of names would add others.
    assert before and titles_read(a, question) == ["Kanban for PMs"]


class _FirstRefusesThenAnswers(ScriptedChat):
    """`first` (NOT COVERED) on the first call, then `reply`: the small model's typical false refusal."""

    first: str = "NOT COVERED"

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        if not self.calls:
            self.calls.append(str(messages[-1].content))
            self.banned.append(list(kwargs.get("banned_words") or []))
            yield from ScriptedChat(reply=self.first, calls=[])._stream(messages)
            return
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def test_false_not_covered_is_retried_and_the_verified_answer_kept(one_reading, embedder):
    llm = _FirstRefusesThenAnswers(reply="Monitoring is not optional [1].", calls=[])
    a = Assistant.load(one_reading, embedder=embedder, chat_model=llm)
    events = list(a.stream("Why is monitoring important for ML products?"))
    ans = events[-1]
    assert len(llm.calls) == 2 and "do answer this question" in llm.calls[1]
    assert llm.calls[0].rsplit("\n\n", 1)[0] == llm.calls[1].rsplit("\n\n", 1)[0]  # same prefix: KV cache reuse
    # The retry, and only the retry, asks the backend never to write the words of a refusal.
    assert llm.banned == [[], ["NOT", "Not", "NO"]]

    # A yes/no question's retry asks what the passages say instead: asked for yes or no, the
    # small model says "Yes" whatever the passages say.
    yes_no = _FirstRefusesThenAnswers(reply="Monitoring is not optional [1].", calls=[])
    Assistant.load(one_reading, embedder=embedder, chat_model=yes_no).ask("Is monitoring important for ML products?")
    assert len(yes_no.calls) == 2 and yes_no.banned == [[], ["NOT", "Not", "NO"]]
    assert "What do the passages say about this: Is monitoring important" in yes_no.calls[1]
    assert not ans.refused and ans.citations[0].doc_id == MONITORING
    assert "NOT COVERED" not in "".join(e for e in events[:-1] if isinstance(e, str))  # never flashed


def test_an_answer_of_bare_markers_is_retried_and_never_shown(one_reading, embedder):
    """The bundled model answered "What are the steps to build a machine learning based
    product?" with "[1] [2] [3] [4]" (stop-15 load test): no words, so it is asked again."""
    llm = _FirstRefusesThenAnswers(first="[1] [2] [3] [4]", reply="Monitoring is not optional [1].", calls=[])
    a = Assistant.load(one_reading, embedder=embedder, chat_model=llm)
    events = list(a.stream("Why is monitoring important for ML products?"))
    assert len(llm.calls) == 2 and "do answer this question" in llm.calls[1]
    assert not events[-1].refused and events[-1].citations[0].doc_id == MONITORING
    assert "".join(e for e in events[:-1] if isinstance(e, str)).startswith("Monitoring")

    labels = _FirstRefusesThenAnswers(first="B [2] and C [3]", reply="Monitoring is not optional [1].", calls=[])
    ans = Assistant.load(one_reading, embedder=embedder, chat_model=labels).ask(
        "Why is monitoring important for ML products?")  # list labels, no content word (dev q18)
    assert len(labels.calls) == 2 and not ans.refused and ans.text.startswith("Monitoring")

    short = _FirstRefusesThenAnswers(first="Monitoring [1].", reply="unused", calls=[])
    ans = Assistant.load(one_reading, embedder=embedder, chat_model=short).ask(
        "Why is monitoring important for ML products?")  # one content word is an answer: no retry
    assert len(short.calls) == 1

    again = _FirstRefusesThenAnswers(first="[1] [2] [3] [4]", reply="[1], [2].", calls=[])
    ans = Assistant.load(one_reading, embedder=embedder, chat_model=again).ask(
        "Why is monitoring important for ML products?")
    assert len(again.calls) == 2 and ans.refused and ans.nearest  # still nothing said: refused, with passages


def test_an_answer_whose_subject_is_its_markers_is_retried(one_reading, embedder):
    """The bundled model answered "Which courses did the technical PM author find most useful?"
    with "[1] and [2] were the courses that the technical PM author found most useful." Stripped
    of its markers that was "were the courses ...", the question's own words, and the page showed
    it as the answer (stop 47): a reply opening with markers for its subject is asked again."""
    llm = _FirstRefusesThenAnswers(first="[1] and [2] were the reasons that monitoring is important.",
                                   reply="Monitoring is not optional [1].", calls=[])
    ans = Assistant.load(one_reading, embedder=embedder, chat_model=llm).ask(
        "Why is monitoring important for ML products?")
    assert len(llm.calls) == 2 and "do answer this question" in llm.calls[1]
    assert not ans.refused and ans.text.startswith("Monitoring is not optional")
    cited_first = _FirstRefusesThenAnswers(first="Monitoring matters [1] and [2] covers drift.", reply="unused",
                                           calls=[])
    Assistant.load(one_reading, embedder=embedder, chat_model=cited_first).ask(
        "Why is monitoring important for ML products?")
    assert len(cited_first.calls) == 1  # a claim of its own comes first: no retry


def test_forced_answer_the_passages_do_not_support_is_still_refused(one_reading, embedder):
    llm = _FirstRefusesThenAnswers(reply="Salaries range from $50,000 to $150,000 per year [1].", calls=[])
    a = Assistant.load(one_reading, embedder=embedder, chat_model=llm)
    ans = a.ask("What's the typical salary range for an AI/ML product manager?")
    assert len(llm.calls) == 2 and ans.refused and ans.llm_called


def test_a_retried_answer_mostly_unsupported_is_refused_but_a_first_one_is_shown_flagged(one_reading, embedder):
    """Dev q23: pushed past its NOT COVERED, the model invented an answer and padded it with one
    true sentence. The same reply as a first answer is shown, its invented part flagged."""
    mixed = ("Price each AI feature at twice its compute cost to keep margins healthy [1]. "
             "Offer a discount to customers who sign a yearly contract [1]. Monitoring is not optional [1].")
    question = "Why is monitoring important for ML products?"
    retried = _FirstRefusesThenAnswers(reply=mixed, calls=[])
    ans = Assistant.load(one_reading, embedder=embedder, chat_model=retried).ask(question)
    assert len(retried.calls) == 2 and ans.refused and ans.nearest and ans.raw_answer.strip() == mixed
    first = Assistant.load(one_reading, embedder=embedder, chat_model=ScriptedChat(reply=mixed, calls=[])).ask(question)
    assert not first.refused and [s.supported for s in first.sentences] == [False, False, True]


def test_a_summary_of_a_named_article_reads_that_article_past_the_gate(built_index, embedder):
    """"TL;DR of Tyna Hope's article?" resembles no passage (every cosine is below the gate),
    so it was refused without the LLM; it names an article, which the LLM now reads."""
    opening = "She shares her thoughts on how to transition from a product manager to an ML product manager."
    llm = ScriptedChat(reply=opening + " [1]", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    question = "What's the TL;DR of Tyna Hope's article?"
    assert max(h.dense for h in a.search(question, k=20)) < built_index.relevance_gates()[0]
    ans = a.ask(question)
    assert ans.llm_called and len(llm.calls) == 1
    blocks = re.findall(r"^\[\d\] \((.*?)[,—)]", llm.calls[0], flags=re.MULTILINE)
    assert len(blocks) == 4 and {b.strip() for b in blocks} == {"Product Management with a Data Science Mindset."}, blocks
    assert "by Tyna Hope" in llm.calls[0]  # the question names her: bylines are shown
    assert not ans.refused and {c.doc_id for c in ans.citations} == {MONITORING}  # the opening chunk
    # Not named, a summary request goes through retrieval and the gate as before.
    llm.calls.clear()
    off = a.ask("Summarize what the articles say about sourdough baking.")
    assert off.refused and not off.llm_called and llm.calls == []


def test_a_question_naming_an_author_below_the_gate_lists_her_passages(built_index, embedder):
    """"What does Gavish say about data?" is like too many passages of every article to pass the
    gate. It is still refused without the LLM (read by the LLM, such passages gave invented
    claims), but the nearest passages listed are her guide's, not whatever came closest."""
    llm = ScriptedChat(reply="should never be used", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    question = "What does Gavish say about data?"
    retrieved = a.search(question, k=20)
    assert max(h.dense for h in retrieved) < built_index.relevance_gates()[0]
    guide = "The Step-By-Step PM Guide to Building Machine Learning Based Products"
    assert {h.title for h in retrieved[:3]} != {guide}
    ans = a.ask(question)
    assert ans.refused and not ans.llm_called and llm.calls == []
    assert len(ans.nearest) == 3 and {c.title for c in ans.nearest} == {guide}


class _CountingChat(ScriptedChat):
    """A scripted model that counts the pieces it was asked for."""

    pieces: list[int] = []

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            self.pieces.append(1)
            yield chunk


def test_a_model_looping_on_a_sentence_is_stopped_and_the_sentence_shown_once(one_reading, embedder):
    loop = " Models become stale over time without anyone noticing [1]." * 30
    llm = _CountingChat(reply="Monitoring is not optional [1]." + loop, calls=[], pieces=[])
    a = Assistant.load(one_reading, embedder=embedder, chat_model=llm)
    ans = a.ask("Why is monitoring important for ML products?")
    assert not ans.refused
    assert [s.text for s in ans.sentences] == ["Monitoring is not optional.",
                                               "Models become stale over time without anyone noticing."]
    # Stopped once the sentence had come twice and the next had begun: 5 + 9 + 9 + 1 words
    # of the 275 the model would write.
    assert len(llm.pieces) <= 30
    # The model's lock is free again: a second question is answered.
    assert not a.ask("Why is monitoring important for ML products?").refused


def _blocks(prompt: str) -> list[tuple[int, str, str]]:
    """(n, title, text) of each passage block of a prompt."""
    return [(int(n), title.strip(), body) for n, title, body
            in re.findall(r"^\[(\d)\] \((.*?)[,—)].*?\n<<<\n(.*?)\n>>>", prompt, flags=re.MULTILINE | re.DOTALL)]


def test_a_comparison_of_two_named_articles_reads_both_and_must_cite_both(built_index, embedder):
    """"Compare Tyna Hope's and Yael Gavish's advice" is below the gate (it resembles no one
    passage) and was refused without the LLM. It names two articles: the LLM reads each one's
    gist, and an answer that cites one side only is a refusal, since it compares nothing."""
    question = "Compare Tyna Hope's and Yael Gavish's advice."
    a = Assistant.load(built_index, embedder=embedder, chat_model=ScriptedChat(reply="unused", calls=[]))
    assert max(h.dense for h in a.search(question, k=20)) < built_index.relevance_gates()[0]
    probe = ScriptedChat(reply="NOT COVERED", calls=[])
    Assistant.load(built_index, embedder=embedder, chat_model=probe).ask(question)
    blocks = _blocks(probe.calls[0])
    guide = "The Step-By-Step PM Guide to Building Machine Learning Based Products"
    hope = "Product Management with a Data Science Mindset."
    assert [t for _, t, _ in blocks] == [hope, hope, guide, guide], blocks  # each side's gist, in the asked order

    def longest_sentence(title: str) -> str:
        n, _, body = max((b for b in blocks if b[1] == title), key=lambda b: len(b[2]))
        text = max((body[s:e] for s, e in sentence_spans(body)), key=len).strip().rstrip(".")
        return f"{text} [{n}]."

    both = ScriptedChat(reply=f"{longest_sentence(hope)} {longest_sentence(guide)}", calls=[])
    ans = Assistant.load(built_index, embedder=embedder, chat_model=both).ask(question)
    assert ans.llm_called and not ans.refused, ans.text
    assert {c.title for c in ans.citations} == {hope, guide}
    one_side = ScriptedChat(reply=longest_sentence(hope), calls=[])
    refused = Assistant.load(built_index, embedder=embedder, chat_model=one_side).ask(question)
    assert refused.refused and refused.llm_called and not refused.citations
    assert {c.title for c in refused.nearest} <= {hope, guide}
    # One article named: a "differ" question goes through retrieval and the gate as before.
    off = Assistant.load(built_index, embedder=embedder, chat_model=ScriptedChat(reply="unused", calls=[]))
    assert off.ask("How does Gavish's advice on sourdough baking differ?").refused


def test_who_is_an_author_reads_her_account_of_herself_past_the_gate(built_index, embedder):
    """"Who is Yael Gavish?" resembles no passage and was refused without the LLM, though her
    guide's byline and its "When I started in machine learning ..." answer it."""
    guide = "The Step-By-Step PM Guide to Building Machine Learning Based Products"
    llm = ScriptedChat(reply=f"Yael Gavish is the author of {guide} [1].", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    question = "Who is Yael Gavish?"
    assert max(h.dense for h in a.search(question, k=20)) < built_index.relevance_gates()[0]
    ans = a.ask(question)
    assert ans.llm_called and len(llm.calls) == 1 and not ans.refused
    blocks = _blocks(llm.calls[0])
    assert len(blocks) == 4 and {t for _, t, _ in blocks} == {guide}
    assert "When I started in machine learning" in blocks[0][2]  # her own account comes first
    assert "by Yael Gavish" in llm.calls[0] and {c.title for c in ans.citations} == {guide}
    # Someone no article is by is still refused without the LLM.
    llm.calls.clear()
    assert a.ask("Who is Andrew Ng?").refused and llm.calls == []


def test_a_question_naming_an_article_above_the_gate_reads_only_that_article(built_index, embedder):
    """"Which online courses does the Prowess newsletter recommend?" passes the gate, and
    retrieval added the technical PM post's course list: the model credited CS50 to the
    newsletter. Only the named article's retrieved passages are read now."""
    newsletter = "Pathways to Becoming an AI/ML Product Manager"
    llm = ScriptedChat(reply="NOT COVERED", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    question = "Which online courses does the Prowess newsletter recommend?"
    assert max(h.dense for h in a.search(question, k=20)) >= built_index.relevance_gates()[0]
    assert {h.title for h in a.search(question, k=4)} != {newsletter}  # what retrieval alone gives
    a.ask(question)
    blocks = _blocks(llm.calls[0])
    assert len(blocks) == 4 and {t for _, t, _ in blocks} == {newsletter}, blocks
    # Naming no article, a question reads what retrieval found, whichever articles it is from.
    llm.calls.clear()
    a.ask("Which online courses does the newsletter recommend?")
    assert len({t for _, t, _ in _blocks(llm.calls[0])}) > 1


BACKGROUND = ("Some background first. I have been a product manager for six years on B2B logistics software, "
              "mostly on a shipment tracking dashboard for operations managers at mid-sized retailers. I run our "
              "A/B tests with the analytics team and I am comfortable with SQL. Next quarter I take over a team of "
              "two data scientists and two backend engineers who are building a delivery delay model, and I have "
              "never shipped a model to customers before. ")


def test_a_long_message_is_asked_as_its_own_question(built_index, embedder, monkeypatch):
    """Retrieval and the model get the asking sentence; the background is left out, and the
    answer says so (rag.long_question)."""
    embedded = []
    real = embedder.embed_query
    monkeypatch.setattr(embedder, "embed_query", lambda text: embedded.append(text) or real(text))
    llm = ScriptedChat(reply="Monitoring is not optional [1].", calls=[])
    a = Assistant.load(built_index, embedder=embedder, chat_model=llm)
    message = BACKGROUND + "Given all of that, why is monitoring important for ML products? Thanks in advance!"
    ans = a.ask(message)
    assert ans.question == message and ans.standalone_question == "Why is monitoring important for ML products?"
    assert embedded == ["Why is monitoring important for ML products?"]
    assert "background are not searched or read" in ans.rewrite_note
    assert not any("shipment tracking" in str(m) for call in llm.calls for m in call)
    assert not ans.refused and MONITORING in {c.doc_id for c in ans.citations}
