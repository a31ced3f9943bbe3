"""End to end with the real embedding model, a real index of corpus/ and the real bundled LLM."""

import threading

import pytest

from rag.answer import Answer
from rag.assistant import Assistant

pytestmark = pytest.mark.llm


@pytest.mark.parametrize(
    "question, doc",
    [
        ("Why is monitoring important for ML products?", "product-management-with-a-data-science-mindset.md"),
        ("How has using Cursor helped the author learn technical skills?", "becoming-a-more-technical-product-manager.md"),
    ],
)
def test_real_llm_answer_cites_the_right_article(built_index, embedder, local_llm, question, doc):
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask(question)
    assert not ans.refused, ans.raw_answer
    assert ans.llm_called and ans.timings.first_token_ms > 0
    assert doc in {c.doc_id for c in ans.citations}, (ans.raw_answer, [c.doc_id for c in ans.citations])
    for c in ans.citations:
        assert a.index.articles[c.doc_id].text[c.start : c.end] == c.text
        assert f"[{c.n}]" in ans.text


def test_llama_cpp_is_built_for_this_cpus_avx512() -> None:
    """`make setup` builds llama.cpp with AVX-512 where the CPU has the base AVX-512 flags, with
    each extension the CPU lists (prompts evaluate 1.45-1.55x faster, scripts/install_llama_cpp.sh),
    and the portable AVX2 build elsewhere."""
    from pathlib import Path

    import llama_cpp

    flags = set(Path("/proc/cpuinfo").read_text().split())
    info = llama_cpp.llama_print_system_info().decode()
    assert "AVX2 = 1" in info
    if {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"} <= flags:
        assert "AVX512 = 1" in info, info
        for flag, feature in [("avx512vbmi", "AVX512_VBMI"), ("avx512_vnni", "AVX512_VNNI"),
                              ("avx512_bf16", "AVX512_BF16"), ("avx_vnni", "AVX_VNNI")]:
            assert (f"{feature} = 1" in info) == (flag in flags), (feature, info)
    else:
        assert "AVX512 = 1" not in info, info


def test_banned_words_never_open_the_local_models_reply(local_llm) -> None:
    """The retry's ban on refusal words is a logit bias inside llama.cpp: asked to say NOT
    COVERED, the real model does, and with the words banned it cannot."""
    messages = [("system", "You follow instructions exactly."),
                ("human", "Reply with exactly these two words: NOT COVERED")]
    assert local_llm.invoke(messages, max_tokens=8).content.strip().startswith("NOT")
    banned = "".join(str(c.content) for c in local_llm.stream(messages, max_tokens=8,
                                                                banned_words=["NOT", "Not", "NO"]))
    assert banned.strip() and not banned.strip().upper().startswith("NOT"), banned


def test_a_generation_stopped_early_frees_the_local_model(local_llm) -> None:
    """The assistant stops a generation that loops (rag.markers.repeat_start) by closing the
    stream: the real model's lock must be released then, not when the stream is collected."""
    messages = [("system", "You follow instructions exactly."),
                ("human", "Count from 1 to 50, one number per line.")]
    stream = local_llm.stream(messages, max_tokens=60)
    next(stream)
    stream.close()
    done: list[str] = []
    worker = threading.Thread(target=lambda: done.append(str(local_llm.invoke(messages, max_tokens=4).content)),
                              daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert done and done[0].strip(), "a second generation never ran: the lock was still held"


def _stopped_at(event_type: type, assistant: Assistant, question: str) -> Answer | None:
    """The answer to `question` when the reader presses Stop at the first `event_type` event."""
    stop = threading.Event()
    answer = None
    for event in assistant.stream(question, progress=True, stop=stop):
        if isinstance(event, event_type):
            stop.set()
        elif isinstance(event, Answer):
            answer = event
    return answer


def test_stop_in_the_second_reading_gives_the_first_readings_answer(built_index, embedder, local_llm) -> None:
    """The reader stops the second reading (15-35 s more on 2 cores): the answer is what one
    reading gives, checked."""
    from rag.answer import Rereading

    question = "Why is monitoring important for ML products?"
    one = Assistant.load(built_index.model_copy(update={"readings": 1}), embedder=embedder, chat_model=local_llm)
    expected = one.ask(question)
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    answer = _stopped_at(Rereading, a, question)
    assert answer is not None and not answer.refused, answer
    assert (answer.stopped_at, answer.reading, answer.readings) == (2, 1, 1)
    # Freed at once too: the reading's stream is closed (test_a_generation_stopped_early_...).
    assert answer.text == expected.text and answer.citations == expected.citations


def test_stop_while_the_model_reads_the_prompt_stops_it_there(built_index, embedder, local_llm) -> None:
    """Stopped as the LLM starts on the passages (the `Reading` event), llama.cpp aborts its
    prompt evaluation (~5 s on 2 cores) instead of finishing it: the answer says it was
    stopped, and the next question is answered as if nothing had happened."""
    from rag.answer import Reading
    from rag.compose import STOPPED_TEXT

    question = "Why is monitoring important for ML products?"
    a = Assistant.load(built_index.model_copy(update={"readings": 1}), embedder=embedder, chat_model=local_llm)
    expected = a.ask(question)
    read_in_full = local_llm._llm.n_tokens  # prompt and answer evaluated
    answer = _stopped_at(Reading, a, question)
    assert answer is not None and answer.stopped_at == 1 and answer.refused, answer
    assert answer.text == STOPPED_TEXT and answer.llm_called
    # Aborted within the prompt: without the abort the whole prompt is read before the first
    # token lets the caller see the Stop.
    assert local_llm._llm.n_tokens < read_in_full / 2, (local_llm._llm.n_tokens, read_in_full)
    again = a.ask(question)
    assert again.text == expected.text and again.citations == expected.citations


def test_a_sentence_the_model_loops_on_is_shown_once(built_index, embedder, local_llm) -> None:
    """Greedy decoding looped on "Regular PMs need to understand the problem, while ML PMs need
    to consider ..." for this question (stop 34): the loop is cut where it starts and no
    sentence of the answer repeats another."""
    from rag.claims import content_words
    from rag.markers import repeat_start

    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("What's the difference between a regular PM and an ML PM?")
    assert not ans.refused, ans.raw_answer
    assert repeat_start(ans.raw_answer) is None, ans.raw_answer
    words = [content_words(s.text) for s in ans.sentences]
    assert not any(w <= v for i, w in enumerate(words) for v in words[:i]), ans.text


def test_a_yes_no_question_gets_what_the_articles_say(built_index, embedder, local_llm) -> None:
    """Asked for yes or no, the small model refuses although the article answers; the retry
    asks what the passages say instead (rag.prompting.YES_NO_RETRY_QUESTION)."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Would the author keep relying on AI coding help if he wanted to be a full-time engineer?")
    assert not ans.refused, ans.raw_answer
    assert "wary" in ans.text, ans.text
    assert "becoming-a-more-technical-product-manager.md" in {c.doc_id for c in ans.citations}


def test_a_list_cut_off_from_its_announcement_reaches_the_model(built_index, embedder, local_llm) -> None:
    """The chunker ends one chunk with "It helps me in two main areas:" and starts the next with
    the two bullets. Shown the announcement alone, the model invented what Cursor does for the
    author (blind2 c01); the passage now runs on into the list (rag.passages)."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("What does the technical PM author use Cursor for?")
    assert not ans.refused, ans.raw_answer
    assert "natural language" in ans.text and "review" in ans.text, ans.text
    cited = {c.doc_id for c in ans.citations if "natural language prompts" in c.text}
    assert cited == {"becoming-a-more-technical-product-manager.md"}, [c.text for c in ans.citations]


def test_a_yes_no_question_restated_as_a_statement_is_never_cited(built_index, embedder, local_llm) -> None:
    """Here the retry says the opposite of the article ("The passages suggest that ... they would
    still rely on AI coding assistants"): the question restated as a statement, a verdict that
    word overlap cannot check, so it is flagged and never cited (rag.citations)."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("If my goal were to become a professional engineer, would the author still rely on AI coding assistants?")
    cited = [s.text for s in ans.sentences if s.citations]
    assert not any("still rely" in t for t in cited), ans.raw_answer


def test_who_wrote_an_article_is_answered_from_its_byline(built_index, embedder, local_llm) -> None:
    """The author is front matter, not article text. Without the byline in the passages the
    model named the people the guide thanks ("Gil Arditi, Yael Avidan, ... wrote the guide"),
    and the verifier accepted it: those names are in the passage."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Who wrote the step-by-step PM guide to building machine learning based products?")
    assert not ans.refused, ans.raw_answer
    assert "Yael Gavish" in ans.text and "Arditi" not in ans.text, ans.text
    guide = "the-step-by-step-pm-guide-to-building-machine-learning-based-products.md"
    bylines = {c.byline for c in ans.citations if c.doc_id == guide}
    assert bylines == {"by Yael Gavish, published on 25 July 2017"}, ans.citations


def test_who_wrote_an_article_without_a_byline_gets_no_invented_author(built_index, embedder, local_llm) -> None:
    """The technical-PM blog post names no author. Before its passages said "author and date
    not given", the model answered "... is written by the lead data scientist [1]" (a phrase of
    the post) and the verifier accepted it."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Who wrote Becoming a more technical product manager?")
    cited = " ".join(s.text for s in ans.sentences if s.citations)
    assert "data scientist" not in cited and "written by" not in cited, ans.raw_answer


def test_which_article_to_read_is_answered_with_its_title(built_index, embedder, local_llm) -> None:
    """The model answered "[2] covers how to become an AI/ML product manager.", which stripped of
    its marker repeats the question and was refused; off-topic, a title is no answer."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Which article covers how to become an AI/ML product manager?")
    assert not ans.refused, ans.raw_answer
    assert "Pathways to Becoming an AI/ML Product Manager" in ans.text, ans.text
    assert {c.doc_id for c in ans.citations} == {"pathways-to-becoming-an-ai-ml-product-manager.md"}
    assert a.ask("Which article talks about pricing AI features?").refused  # no article mentions pricing


def test_a_tldr_of_an_article_named_by_its_author_is_answered_from_it(built_index, embedder, local_llm) -> None:
    """Like no passage in particular, "What's the TL;DR of Tyna Hope's article?" was refused
    by the relevance gate; it names her article, whose opening and central chunks answer it."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("What's the TL;DR of Tyna Hope's article?")
    assert ans.llm_called and not ans.refused, ans.raw_answer
    assert {c.doc_id for c in ans.citations} == {"product-management-with-a-data-science-mindset.md"}, ans.citations
    assert any(s.supported for s in ans.sentences)


def test_a_follow_up_is_rewritten_from_the_chat_and_never_into_the_previous_question(
        built_index, embedder, local_llm) -> None:
    """"it" resolved from the chat: the churn model's failure modes are answered. Asked "How much
    does it cost per month?" after the IDE question, the bundled model rewrote it into the IDE
    question itself, and the assistant answered that, cited; that rewrite is now refused by
    rag.followup.is_faithful, and the articles, which never price Cursor, refuse the question.
    Looked up as a referent, its "it" came back as "The technical PM guy" ("The technical PM guy
    costs $8 per month. [1]"), so an "it" may not be resolved to a person."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    churn = [("If the data scientists build me a churn model, what do I actually get out of it?",
              "The churn model outputs a probability only, and maybe a measure of confidence in this value. [1]")]
    live = a.ask("What can go wrong with it once it's live?", history=churn)
    assert "churn model" in live.standalone_question, live.standalone_question
    assert not live.refused and "stale" in live.text, live.raw_answer
    ide = [("what IDE does the technical PM guy use?", "Cursor is the IDE used by the technical PM guy. [1]")]
    price = a.ask("How much does it cost per month?", history=ide)
    assert "cost" in price.standalone_question, price.standalone_question
    assert price.refused, price.text
    # "him" and "it" looked up (stop 25): asked as "... finish it?" the relevance gate refused it.
    course = [("How long did it take the author to get through the NLP data science course?",
               "It took almost 18 months to complete. [1]")]
    finish = a.ask("What gave him the time to finish it?", history=course)
    assert "course" in finish.standalone_question and " it?" not in finish.standalone_question, \
        finish.standalone_question


def test_each_in_a_follow_up_stands_for_what_the_answer_listed(built_index, embedder, local_llm) -> None:
    """"How long does each take?" after an answer naming two courses was asked as typed and
    refused by the relevance gate. Rewritten, it gets the NLP career path's 18 months; the
    model's "CS50 takes almost 18 months" (said of the other course) is flagged, not cited."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    courses = [("Which online courses do the articles point to?",
                "CS50: Introduction to Computer Science by Harvard, and Codecademy's NLP career path. [1]")]
    ans = a.ask("How long does each take?", history=courses)
    assert "each take" not in ans.standalone_question and "NLP" in ans.standalone_question, ans.standalone_question
    assert not ans.refused, ans.text
    supported = [s.text for s in ans.sentences if s.supported]
    assert any("18 months" in s for s in supported), ans.sentences
    assert not any("CS50" in s for s in supported), supported


def test_the_courses_asked_about_and_how_long_that_took(built_index, embedder, local_llm) -> None:
    """An exploratory chat (stop 47). "Which courses did the technical PM author find most
    useful?" was answered "were the courses that the technical PM author found most useful. [1]":
    the second reading's "[1] and [2] were the courses ..." with its markers stripped. Then "and
    how long did that take?" was asked as "How long did the technical PM author find the courses
    most useful?" and answered "... most useful for 18 months when they joined Climate Policy
    Radar"."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    question = "Which courses did the technical PM author find most useful?"
    courses = a.ask(question)
    assert not courses.refused and "CS50" in courses.text, courses.raw_answer
    assert all(s.text[0].isupper() or not s.text[0].isalpha() for s in courses.sentences), courses.sentences
    ans = a.ask("and how long did that take?", history=[(question, courses.text)])
    assert "useful" not in ans.standalone_question, ans.standalone_question
    assert any(s.supported and "18 months" in s.text for s in ans.sentences), ans.sentences


def test_who_is_an_author_is_answered_from_her_article(built_index, embedder, local_llm) -> None:
    """"Who is Yael Gavish?" was refused by the relevance gate without the LLM."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Who is Yael Gavish?")
    assert ans.llm_called and not ans.refused, ans.raw_answer
    guide = "the-step-by-step-pm-guide-to-building-machine-learning-based-products.md"
    assert {c.doc_id for c in ans.citations} == {guide}, ans.citations
    assert any(s.supported and "Gavish" in s.text for s in ans.sentences), ans.sentences


def test_a_comparison_of_two_named_authors_cites_both(built_index, embedder, local_llm) -> None:
    """"Compare Tyna Hope's and Yael Gavish's advice" was refused by the gate without the LLM."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Compare Tyna Hope's and Yael Gavish's advice.")
    assert ans.llm_called and not ans.refused, ans.raw_answer
    assert {c.doc_id for c in ans.citations} == {
        "product-management-with-a-data-science-mindset.md",
        "the-step-by-step-pm-guide-to-building-machine-learning-based-products.md"}, ans.citations


def test_a_question_naming_a_publication_is_answered_from_it_alone(built_index, embedder, local_llm) -> None:
    """Given the technical PM post's course list beside the newsletter's passages, the model
    credited CS50 to the Prowess newsletter, and the answer was refused."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("Which online courses does the Prowess newsletter recommend?")
    assert not ans.refused, ans.raw_answer
    assert {c.doc_id for c in ans.citations} == {"pathways-to-becoming-an-ai-ml-product-manager.md"}, ans.citations
    assert not any("CS50" in s.text for s in ans.sentences), ans.sentences



def test_a_yes_no_answer_ends_with_the_article_sentence_nearest_the_question(built_index, embedder, local_llm) -> None:
    """Blind2 c09: the model answers "Yes, that is normal" with sentences about designing
    features; the article's sentence nearest the question, about PMs thrown into ML work for
    the first time, is quoted after them."""
    a = Assistant.load(built_index, embedder=embedder, chat_model=local_llm)
    ans = a.ask("I just got put on ML features and honestly feel out of my depth on the math. Is that normal?")
    assert not ans.refused, ans.raw_answer
    nearest = ("I have had PM colleagues get thrown into the situation of having to work on ML-based"
               " features for the first time.")
    assert nearest not in ans.raw_answer, "the model said it itself: the test no longer shows the quote"
    last = ans.sentences[-1]
    assert last.text == f"“{nearest}”" and last.supported, ans.sentences
    cited = ans.citations[last.citations[0] - 1]
    assert nearest in cited.text and cited.quote == nearest


def test_an_answer_is_the_same_asked_first_or_after_other_questions(built_index, embedder) -> None:
    """Fresh f04 was refused when it was the first question a model was asked and answered
    after any other: the first prompt was evaluated in one piece, later ones after the system
    turn they shared with the previous prompt (rag.prompt_states). A model of its own, so that
    this question really comes first."""
    from rag.config import Settings
    from rag.generation import build_chat_model

    a = Assistant.load(built_index, embedder=embedder, chat_model=build_chat_model(Settings.load(llm="local")))
    question = "We're not building chatbots or self-driving cars. Will we still need ML in our product?"
    first = a.ask(question)
    a.ask("Why is monitoring important for ML products?")
    again = a.ask(question)
    assert (first.raw_answer, first.refused) == (again.raw_answer, again.refused)
    assert not first.refused, first.raw_answer
