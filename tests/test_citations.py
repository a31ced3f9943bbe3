from rag.chunking import Chunk
from rag.citations import VerifyConfig, render, verify
from rag.passages import Passage, select_passages, sentence_spans
from rag.retrieval import Hit

ARTICLES = {
    "mon.md": "Monitoring is not optional. Models become stale over time without anyone noticing.",
    "team.md": "An ML PM partners with the data science team. Communication is the core skill.",
}


def _passages() -> list[Passage]:
    out = []
    for n, doc in enumerate(["mon.md", "team.md"], start=1):
        text = ARTICLES[doc]
        hit = Hit(Chunk(doc, 0, 0, len(text), "", text), doc, 1.0, 0.5, 1.0, n)
        out.append(Passage(n, hit, 0, len(text), text))
    return out


def _one_passage(doc: str, text: str) -> tuple[dict[str, str], list[Passage]]:
    """An article of `text` alone, shown whole as passage 1."""
    hit = Hit(Chunk(doc, 0, 0, len(text), "", text), doc, 1.0, 0.5, 1.0, 1)
    return {doc: text}, [Passage(1, hit, 0, len(text), text)]


def test_wrong_citation_is_repointed_to_the_supporting_passage(embedder):
    answer = "Monitoring is not optional because models become stale [2]."
    result = verify(answer, _passages(), ARTICLES, embedder)
    assert result.sentences[0].passages == [1]
    assert result.sentences[0].supported
    s, e = result.quotes[1]
    assert ARTICLES["mon.md"][s:e] in ("Monitoring is not optional.", "Models become stale over time without anyone noticing.")


def test_marker_that_names_no_passage_is_removed(embedder):
    result = verify("An ML PM partners with the data science team [7].", _passages(), ARTICLES, embedder)
    assert result.sentences[0].passages == [2]


def test_unsupported_sentence_is_flagged(embedder):
    answer = "Monitoring is not optional [1]. The capital of France is Paris and croissants are tasty [1]."
    result = verify(answer, _passages(), ARTICLES, embedder)
    assert result.sentences[0].supported
    assert not result.sentences[1].supported and result.sentences[1].passages == []


def test_sentence_spans_are_exact():
    text = "First one. Second? Third!\nBullet line"
    spans = sentence_spans(text, 10)
    assert [text[s - 10 : e - 10] for s, e in spans] == ["First one.", "Second?", "Third!", "Bullet line"]


def test_select_passages_quotes_exact_windows(built_index, embedder):
    from rag.assistant import Assistant

    a = Assistant.load(built_index, embedder=embedder)
    q = "Why is monitoring important?"
    hits = a.search(q, 3)
    texts = {d: art.text for d, art in a.index.articles.items()}
    for p in select_passages(embedder.embed_query(q), hits, texts, embedder, max_tokens=40):
        assert texts[p.hit.doc_id][p.start : p.end] == p.text
        assert p.hit.chunk.start <= p.start < p.end <= p.hit.chunk.end


def test_passages_carry_their_articles_byline_and_author_from_the_index(built_index, embedder):
    """The author check and the bylines in the prompt read them from the passages."""
    from rag.assistant import Assistant

    a = Assistant.load(built_index, embedder=embedder)
    q = "Why is monitoring important?"
    hits = a.search(q, 4)
    texts = {d: art.text for d, art in a.index.articles.items()}
    passages = select_passages(embedder.embed_query(q), hits, texts, embedder, articles=a.index.articles)
    hope = [p for p in passages if p.hit.doc_id == "product-management-with-a-data-science-mindset.md"]
    assert hope and all(p.author == "Tyna Hope" and p.byline == "by Tyna Hope, published on 9 May 2021"
                        for p in hope)
    assert all(not p.author for p in passages if p.hit.doc_id == "sprint-2-do-what-you-do.md")


def test_sentence_that_only_echoes_the_question_is_unsupported(embedder):
    question = "Why is monitoring important for ML models?"
    result = verify("Monitoring is important for ML models [1].", _passages(), ARTICLES, embedder,
                    question=question)
    assert not result.any_supported  # an echo proves nothing: alone, it becomes a refusal


def test_invented_details_are_unsupported(embedder):
    answer = "Use SageMaker dashboards and Grafana alerts with PagerDuty escalation [1]."
    result = verify(answer, _passages(), ARTICLES, embedder, question="How should I monitor models?")
    assert not result.sentences[0].supported


def test_restated_question_is_dropped_not_flagged(embedder):
    question = "Why is monitoring important for ML models?"
    answer = "Why is monitoring important for ML models? Models become stale over time [1]."
    result = verify(answer, _passages(), ARTICLES, embedder, question=question)
    assert [s.text for s in result.sentences] == ["Models become stale over time."]
    assert result.sentences[0].supported


def test_invented_number_is_unsupported_even_if_the_passage_has_that_digit(embedder):
    text = "The course took almost 18 months. I follow a 3 step process to learn concepts."
    articles, passages = _one_passage("c.md", text)
    q = "How long did the course take?"
    stated = verify("The course took almost 18 months [1].", passages, articles, embedder, question=q)
    assert stated.sentences[0].supported
    invented = verify("The course took 3 months [1].", passages, articles, embedder, question=q)
    assert not invented.sentences[0].supported and invented.sentences[0].passages == []


def test_a_number_stated_over_another_period_is_unsupported(embedder):
    """A follow-up's answer (stop 24): "72 hours a week" from the article's "In the 72 hours
    that followed"."""
    text = ("In the 72 hours that followed, I explained retrieval augmented generation to other people."
            " I can only commit to learning for less than 10 hours per week.")
    articles, passages = _one_passage("c.md", text)
    q = "How many hours a week does the author spend learning now?"
    invented = verify("The author spends 72 hours a week learning now [1].", passages, articles, embedder, question=q)
    assert not invented.sentences[0].supported
    stated = verify("The author spends less than 10 hours per week learning [1].", passages, articles, embedder,
                    question=q)
    assert stated.sentences[0].supported


def test_what_a_sentence_says_of_a_named_thing_needs_a_passage_that_names_it(embedder):
    """A follow-up's answer (stop 28): asked how long CS50 takes, the model wrote "CS50 ...
    takes 18 months" from a passage on another course that took 18 months. The question's
    names prove nothing lexically, so the passage must name the thing itself."""
    nlp = "Data Scientist: NLP Specialist Career Path by CodeAcademy. It took almost 18 months to complete."
    cs50 = "CS50: Introduction to Computer Science by Harvard. It is a free course with lectures online."
    articles = {"nlp.md": nlp, "cs.md": cs50}
    passages = [Passage(n, Hit(Chunk(d, 0, 0, len(t), "", t), d, 1.0, 0.5, 1.0, n), 0, len(t), t)
                for n, (d, t) in enumerate(articles.items(), start=1)]
    q = "How many weeks does CS50: Introduction to Computer Science by Harvard take?"
    invented = verify("CS50: Introduction to Computer Science by Harvard takes 18 months [1].", passages, articles,
                      embedder, question=q)
    assert not invented.sentences[0].supported and invented.sentences[0].passages == []
    q = "How long did the NLP Specialist Career Path take him?"
    stated = verify("The NLP Specialist Career Path took almost 18 months to complete [1].", passages, articles,
                    embedder, question=q)
    assert stated.sentences[0].supported and stated.sentences[0].passages == [1]
    # The article spells it "CodeAcademy"; the reader, like the model, writes "Codecademy".
    q = "How long did the Codecademy NLP data science career path take the author to finish?"
    typo = verify("The Codecademy NLP data science career path took the author almost 18 months to finish. [1]",
                  passages, articles, embedder, question=q)
    assert typo.sentences[0].supported and typo.sentences[0].passages == [1]


def test_a_rate_read_as_a_duration_is_unsupported(embedder):
    """Fresh f06, an unanswerable question answered "4 days [1]" from "a 4-day work week"."""
    text = "I introduced a 4-day work week at work, which gave me the space to finish the CS50 course."
    hit = Hit(Chunk("c.md", 0, 0, len(text), "", text), "c.md", 1.0, 0.5, 1.0, 1)
    passages = [Passage(1, hit, 0, len(text), text)]
    q = "How many weeks does Harvard's CS50 take to complete?"
    assert not verify("4 days [1]", passages, {"c.md": text}, embedder, question=q).any_supported
    worked = verify("He worked 4 days a week, which let him finish CS50 [1].", passages, {"c.md": text},
                    embedder, question=q)
    assert worked.sentences[0].supported


def test_copied_headings_and_questions_claim_nothing(embedder):
    # Dev q32: with no answer in the passages, the model listed their section headings.
    text = "Monitoring is not optional."
    hit = Hit(Chunk("mon.md", 0, 0, len(text), "Top Discussions > How does one become an ML PM? > Discussion",
                    text), "mon.md", 1.0, 0.5, 1.0, 1)
    passages = [Passage(1, hit, 0, len(text), text)]
    answer = "How does one become an ML PM? [1] > Discussion [1] Top Discussions [1]"
    assert not verify(answer, passages, ARTICLES, embedder).any_supported
    assert verify("Monitoring is not optional [1].", passages, ARTICLES, embedder).any_supported


def test_a_refusal_tacked_on_after_an_answer_is_dropped(embedder):
    """Fresh f02: "... [2] Not covered". The model's stop signal claims nothing; kept, it showed
    as an unsupported sentence that reads as if the answer were withdrawn."""
    for tail in ("Not covered", "NOT COVERED.", "\nnot  covered"):
        result = verify(f"Monitoring is not optional [1]. {tail}", _passages(), ARTICLES, embedder)
        assert [(s.text, s.supported) for s in result.sentences] == [("Monitoring is not optional.", True)]
    # Words around it make it a sentence like any other, checked as usual.
    result = verify("Monitoring is not optional [1]. Pricing is not covered by the team [1].",
                    _passages(), ARTICLES, embedder)
    assert [s.supported for s in result.sentences] == [True, False]


def test_a_passage_sentence_with_the_questions_word_swapped_in_is_not_supported(embedder):
    """Dev q18: asked for AI in finance, the model copied the passage's healthcare sentence with
    "finance" in place of "healthcare". Every other word is the passage's, and the question's
    words prove nothing, so only the alignment with the copied sentence shows the swap."""
    text = ("In healthcare, AI has been used to analyze medical data and assist in diagnosing diseases. "
            "In finance, AI algorithms have been utilized for fraud detection and risk assessment.")
    articles, passages = _one_passage("ai.md", text)
    answer = ("AI algorithms have been utilized for fraud detection and risk assessment [1]. "
              "In finance, AI has been employed to analyze medical data and assist in diagnosing diseases [1].")
    result = verify(answer, passages, articles, embedder, question="Examples of AI use in finance?")
    assert [(s.supported, s.passages) for s in result.sentences] == [(True, [1]), (False, [])]
    # A word the passage never uses is the question's way of saying it, not a swap.
    answer = "In medicine, AI has been used to analyze medical data and assist in diagnosing diseases [1]."
    result = verify(answer, passages, articles, embedder, question="How is AI used in medicine?")
    assert [(s.supported, s.passages) for s in result.sentences] == [(True, [1])]
    # Nor is a word only the section heading has: the heading names the topic, not a sibling.
    text = "In healthcare, AI has been used to analyze medical data and assist in diagnosing diseases."
    hit = Hit(Chunk("ai.md", 0, 0, len(text), "AI in finance", text), "ai.md", 1.0, 0.5, 1.0, 1)
    answer = "In finance, AI has been used to analyze medical data and assist in diagnosing diseases [1]."
    result = verify(answer, [Passage(1, hit, 0, len(text), text)], {"ai.md": text}, embedder,
                    question="Examples of AI use in finance?")
    assert [(s.supported, s.passages) for s in result.sentences] == [(True, [1])]


def test_a_long_answer_shows_its_five_sentences_most_about_the_question(embedder):
    """Asked for at most 4 sentences, the small model sometimes copies 8 or 9 out of its
    passages. The 5 shown are the supported ones most like the question, in answer order, and
    a passage's quote comes from a shown sentence."""
    sentences = ["Monitoring is not optional.", "Models become stale over time without anyone noticing.",
                 "Dashboards help teams see drift.", "Alerts fire when accuracy drops.",
                 "Retraining fixes stale models.", "Our office has a nice kitchen.", "Lunch is served at noon."]
    text = " ".join(sentences)
    hit = Hit(Chunk("m.md", 0, 0, len(text), "", text), "m.md", 1.0, 0.5, 1.0, 1)
    passages = [Passage(1, hit, 0, len(text), text)]
    question = "Why do ML models need monitoring?"
    result = verify(" ".join(f"{x} [1]" for x in sentences), passages, {"m.md": text}, embedder,
                    question=question)
    shown = [x.text for x in result.sentences]
    assert len(shown) == 5 and shown == [x for x in sentences if x in shown]  # answer order
    assert "Our office has a nice kitchen." not in shown and "Lunch is served at noon." not in shown
    s, e = result.quotes[1]
    assert text[s:e] in shown
    # Unsupported sentences go first when there are too many, however close to the question.
    claim = "Monitoring ML models needs a PhD in statistics."
    alone = verify(claim, passages, {"m.md": text}, embedder, question=question)
    assert not alone.sentences[0].supported
    result = verify(" ".join(f"{x} [1]" for x in sentences[:5]) + f" {claim}", passages, {"m.md": text},
                    embedder, question=question)
    assert [x.text for x in result.sentences] == sentences[:5]


def test_a_copied_first_person_sentence_is_shown_as_a_quote(embedder):
    """Dev q44: "I think this project will give me a deeper understanding of how our backend
    works." Shown as it is, the assistant says "I"; as a quote, the article does."""
    text = "I think this project will give me a deeper understanding of how our backend works."
    hit = Hit(Chunk("p.md", 0, 0, len(text), "", text), "p.md", 1.0, 0.5, 1.0, 1)
    passages = [Passage(1, hit, 0, len(text), text)]
    result = verify(f"{text} [1]", passages, {"p.md": text}, embedder, question="Why do side projects help?")
    assert [(s.text, s.supported) for s in result.sentences] == [(f"“{text}”", True)]
    assert render(result, {1: 1}) == f"“{text}” [1]"
    # In the third person it is the assistant's own sentence.
    answer = "The author thinks this project will give him a deeper understanding of the backend."
    result = verify(f"{answer} [1]", passages, {"p.md": text}, embedder, question="Why do side projects help?")
    assert result.sentences[0].text == answer


def test_a_quote_is_the_articles_sentence_exactly_not_the_models_near_copy(embedder):
    """Blind2 c02: the model wrote "The first article focused on the skills that I think you
    need …" where the article says "The last article really focused on …"; in quotation marks
    that is a misquote. The quote shows the article's sentence, without its bullet."""
    text = ("Now there is one more space.\n\n"
            "  • The last article really focused on the skills that I think you need to break into the ML PM space.")
    hit = Hit(Chunk("s.md", 0, 0, len(text), "", text), "s.md", 1.0, 0.5, 1.0, 1)
    passages = [Passage(1, hit, 0, len(text), text)]
    answer = "The first article focused on the skills that I think you need to break into the ML PM space. [1]"
    result = verify(answer, passages, {"s.md": text}, embedder, question="What did the earlier article cover?")
    quoted = "“The last article really focused on the skills that I think you need to break into the ML PM space.”"
    assert [(s.text, s.supported) for s in result.sentences] == [(quoted, True)]
    assert render(result, {1: 1}) == f"{quoted} [1]"


def test_a_bare_yes_or_no_is_flagged_never_cited(embedder):
    """Forced to answer a yes/no question, the small model replies "Yes, <the question
    restated>" whatever the passages say (fresh f10, f17). Its claim is the verdict itself,
    which word overlap cannot check: flagged, never cited, so alone it makes a refusal."""
    question = "Does an ML PM partner with the data science team?"
    for answer in ("Yes, an ML PM partners with the data science team [2].",
                   "No, an ML PM doesn't partner with the data science team [2]."):
        result = verify(answer, _passages(), ARTICLES, embedder, question=question)
        assert [(s.supported, s.passages) for s in result.sentences] == [(False, [])], answer
        assert not result.any_supported
    # A yes or no with something of its own to check: the claim is judged like any sentence,
    # and the verdict, which the passage cannot confirm, is flagged on its own.
    result = verify("Yes, communication is the core skill [2].", _passages(), ARTICLES, embedder,
                    question="Does an ML PM need special skills?")
    assert [(s.text, s.supported, s.passages) for s in result.sentences] == [
        ("Yes,", False, []), ("communication is the core skill.", True, [2])]
    assert render(result, {2: 1}) == "Yes, communication is the core skill. [1]"


def test_a_yes_no_question_restated_as_a_statement_is_flagged_never_cited(embedder):
    """Asked what the passages say about a yes/no question, the small model may restate the
    question as a statement behind an attribution, with no "Yes": the same bare verdict."""
    question = "Does an ML PM partner with the data science team?"
    answer = "The passages suggest that an ML PM partners with the data science team [2]."
    # Embedding similarity alone: the restatement is as close to the passage as a copy, which is
    # how the real one ("... they would still rely on AI coding assistants") passed the blend.
    similarity_only = VerifyConfig(lexical_weight=0.0)
    result = verify(answer, _passages(), ARTICLES, embedder, similarity_only, question=question)
    assert [(s.supported, s.passages) for s in result.sentences] == [(False, [])]
    # The same sentence answering an open question states something to check.
    result = verify(answer, _passages(), ARTICLES, embedder, similarity_only, question="Who does an ML PM work with?")
    assert result.sentences[0].supported and result.sentences[0].passages == [2]
    # And a yes/no question answered with a claim of one word is judged like any sentence.
    result = verify("Communication is the core skill [2].", _passages(), ARTICLES, embedder,
                    question="Does an ML PM need any core skill?")
    assert result.sentences[0].supported and result.sentences[0].passages == [2]


def test_the_byline_supports_who_wrote_an_article(embedder):
    """"Who wrote ...?" is answered from the byline, which is not in the article text; naming
    the author is a claim, not a copy of a heading, and without the byline it is unsupported."""
    text = ARTICLES["team.md"]
    hit = Hit(Chunk("team.md", 0, 0, len(text), "", text), "The ML PM Handbook", 1.0, 0.5, 1.0, 1)
    question = "Who wrote the ML PM handbook?"
    answer = "Tyna Hope wrote the ML PM handbook [1]."
    with_byline = [Passage(1, hit, 0, len(text), text, "by Tyna Hope, published on 9 May 2021", "Tyna Hope")]
    result = verify(answer, with_byline, ARTICLES, embedder, question=question)
    assert result.sentences[0].supported and result.sentences[0].passages == [1]
    result = verify(answer, [Passage(1, hit, 0, len(text), text)], ARTICLES, embedder, question=question)
    assert not result.sentences[0].supported
    dated = verify("It was published in 2021 [1].", with_byline, ARTICLES, embedder,
                   question="When was the ML PM handbook published?")
    assert dated.sentences[0].supported


def test_a_sentence_naming_an_author_is_supported_only_by_her_articles(embedder):
    """"Gavish says that ... [1]" cited to an article she did not write (fresh f11) is a wrong
    attribution, however well the words match that article."""
    by_hope = [Passage(1, _passages()[0].hit, 0, len(ARTICLES["mon.md"]), ARTICLES["mon.md"],
                       "by Tyna Hope", "Tyna Hope"), _passages()[1]]
    wrong = "Tyna Hope says an ML PM partners with the data science team [2]."
    assert verify(wrong, _passages(), ARTICLES, embedder).any_supported  # the words alone pass
    assert not verify(wrong, by_hope, ARTICLES, embedder).any_supported
    assert not verify("Hope says an ML PM partners with the data science team [2].", by_hope, ARTICLES,
                      embedder).any_supported
    for right in ["Tyna Hope says monitoring is not optional [1].", "Monitoring is not optional, says Hope [1]."]:
        result = verify(right, by_hope, ARTICLES, embedder)
        assert result.sentences[0].supported and result.sentences[0].passages == [1], right
    # An article that names her may report what she says.
    quoting = dict(ARTICLES, **{"team.md": "As Tyna Hope puts it, an ML PM partners with the data science team."})
    quoted = [by_hope[0], Passage(2, _passages()[1].hit, 0, len(quoting["team.md"]), quoting["team.md"])]
    assert verify(wrong, quoted, quoting, embedder).sentences[0].passages == [2]
    # Naming nobody, a sentence may come from any article whatever the question names.
    anyone = verify("An ML PM partners with the data science team [2].", by_hope, ARTICLES, embedder,
                    question="What does Tyna Hope say about data science teams?")
    assert anyone.sentences[0].supported and anyone.sentences[0].passages == [2]



def test_a_sentence_comparing_two_authors_is_held_to_the_author_rule_not_the_name_rule(embedder):
    """"Hope stresses ..., while Gavish ..." answering "Compare Hope's and Gavish's advice"
    names both; no one passage names both, so the asked-name rule (every name the question asks
    about in one passage) refused every such sentence. Each passage speaks for its author."""
    hit1, hit2 = _passages()[0].hit, _passages()[1].hit
    both = [Passage(1, hit1, 0, len(ARTICLES["mon.md"]), ARTICLES["mon.md"], "by Tyna Hope", "Tyna Hope"),
            Passage(2, hit2, 0, len(ARTICLES["team.md"]), ARTICLES["team.md"], "by Yael Gavish", "Yael Gavish")]
    question = "Compare Tyna Hope's and Yael Gavish's advice."
    answer = "In short, Hope says monitoring is not optional, while Gavish says communication is the core skill [1][2]."
    result = verify(answer, both, ARTICLES, embedder, question=question)
    assert result.sentences[0].supported, result.sentences
    # A name the question asks about that is no author still needs a passage naming it.
    other = "Hope says monitoring is not optional at Prowess [1]."
    assert not verify(other, both, ARTICLES, embedder, question="What does Hope say about Prowess?").any_supported

def _titled(titles: list[str]) -> list[Passage]:
    texts = [ARTICLES["mon.md"], ARTICLES["team.md"]]
    return [Passage(n, Hit(Chunk(d, 0, 0, len(t), "", t), title, 1.0, 0.5, 1.0, n), 0, len(t), t)
            for n, (d, t, title) in enumerate(zip(["mon.md", "team.md"], texts, titles, strict=True), start=1)]


def test_a_title_answers_which_article_only_when_the_passage_is_about_the_topic(embedder):
    """A title copied from the passage header is the answer to "which article?", so it is not
    dropped as a heading copy; but its words support it whatever was asked, so the passage
    must hold the question's topic (not "pricing" here)."""
    passages = _titled(["Monitoring ML", "Working with DS teams"])
    ok = verify("“Monitoring ML” [1]", passages, ARTICLES, embedder,
                question="Which article explains why models become stale?")
    assert ok.sentences and ok.sentences[0].supported and ok.sentences[0].passages == [1]
    off = verify("“Monitoring ML” [1]", passages, ARTICLES, embedder,
                 question="Which article talks about pricing ML features?")
    assert not off.any_supported
    pm = verify("“Working with DS teams” [2]", passages, ARTICLES, embedder,
                question="Which article covers how a product manager partners with the data science team?")
    assert pm.sentences[0].supported  # the passage's "PM" counts for "product manager"


def test_a_question_in_a_passage_supports_nothing(embedder):
    """The newsletter quotes its readers' questions. "Is it necessary for a non-technical PM
    to become as technical as a data scientist ...?" supported the bundled model's "becoming
    an AI/ML PM requires a significant amount of technical knowledge" (dev q12), which the
    articles contradict: a question states nothing."""
    text = ("The roadmap is basically a list of ways to improve algorithms.\n\n"
            "Is it necessary for a non-technical PM to become as technical as a data scientist in order to"
            " become an AI/ML PM?")
    hit = Hit(Chunk("news.md", 0, 0, len(text), "", text), "news.md", 1.0, 0.5, 1.0, 1)
    passages = [Passage(1, hit, 0, len(text), text)]
    answer = "A non-technical PM must become as technical as a data scientist in order to become an AI/ML PM [1]."
    result = verify(answer, passages, {"news.md": text}, embedder,
                    question="Do I have to become a data scientist to work as an ML PM?")
    assert [(s.supported, s.passages) for s in result.sentences] == [(False, [])]
    # The same words stated, not asked, support it.
    stated = text.replace("Is it necessary for", "It is necessary for").replace("AI/ML PM?", "AI/ML PM.")
    hit = Hit(Chunk("news.md", 0, 0, len(stated), "", stated), "news.md", 1.0, 0.5, 1.0, 1)
    result = verify(answer, [Passage(1, hit, 0, len(stated), stated)], {"news.md": stated}, embedder,
                    question="Do I have to become a data scientist to work as an ML PM?")
    assert [(s.supported, s.passages) for s in result.sentences] == [(True, [1])]


def test_a_sentence_that_adds_nothing_to_an_earlier_one_is_dropped(embedder):
    # The bundled model looped on one sentence for "What's the difference between a regular PM
    # and an ML PM?" (stop 34); a loop's copies, reordered or not, say nothing new.
    answer = ("Monitoring is not optional [1]. Models become stale over time without anyone noticing [1]."
              " Over time models become stale without anyone noticing [1]. Monitoring is not optional [2].")
    result = verify(answer, _passages(), ARTICLES, embedder)
    assert [s.text for s in result.sentences] == [
        "Monitoring is not optional.", "Models become stale over time without anyone noticing."]
    assert render(result, {1: 1}) == ("Monitoring is not optional. [1] Models become stale over time"
                                      " without anyone noticing. [1]")



def test_a_claim_is_kept_without_the_models_trailing_gloss(embedder):
    """Dev q17: the passage states the claim, the model's ", which ..." sank the whole sentence."""
    text = ("A DS team may design a customer churn model but it outputs a probability only, and maybe a "
            "measure of confidence in this value. What will you do with that?")
    articles, passages = _one_passage("hope.md", text)
    q = "If the data scientists build me a churn model, what do I actually get out of it?"
    glossed = ("The churn model provides a probability of customer churn, which can help the business make "
               "decisions about retaining customers or taking action to prevent churn [1].")
    config = VerifyConfig(min_support=0.5)
    result = verify(glossed, passages, articles, embedder, config, question=q)
    assert [s.text for s in result.sentences] == ["The churn model provides a probability of customer churn."]
    assert result.sentences[0].supported and result.sentences[0].passages == [1]
    # Without the fallback the whole sentence is what was checked, and it falls short.
    whole = verify(glossed.replace(", which", " which"), passages, articles, embedder, config, question=q)
    assert not whole.any_supported
    # A clause closed by a later comma is inside the claim: nothing is cut from it.
    inside = ("The churn model, which the data scientists build for you, helps the business decide "
              "how to retain customers [1].")
    assert not verify(inside, passages, articles, embedder, config, question=q).any_supported


def test_each_side_of_a_comparison_is_checked_against_its_own_passage(embedder):
    """"X does this, while Y does that" claims one thing of each article: cited to both."""
    both = "Models become stale over time without anyone noticing, while communication is the core skill of an ML PM [1]."
    result = verify(both, _passages(), ARTICLES, embedder)
    assert result.sentences[0].supported and result.sentences[0].passages == [1, 2]
    assert result.sentences[0].text == both.replace(" [1]", "")
    assert set(result.quotes) == {1, 2}
    # A side no passage supports: the sentence is judged whole, and the other article is not cited.
    invented = "Models become stale over time without anyone noticing, while croissants are the best breakfast in Paris [1]."
    assert 2 not in verify(invented, _passages(), ARTICLES, embedder).sentences[0].passages


def test_a_sentence_said_again_with_one_word_swapped_is_shown_once(embedder):
    """blind3 d17: "The article emphasizes the importance of …" then "The article highlights the
    importance of …", the rest the same."""
    answer = ("The article stresses that models become stale over time without anyone noticing [1]."
              " The article highlights that models become stale over time without anyone noticing [1].")
    result = verify(answer, _passages(), ARTICLES, embedder)
    assert [s.text for s in result.sentences] == [
        "The article stresses that models become stale over time without anyone noticing."]
    # A short sentence with one word swapped may be a claim of its own.
    short = verify("Monitoring is not optional [1]. Monitoring is not cheap [1].", _passages(), ARTICLES, embedder)
    assert len(short.sentences) == 2


def test_the_same_claim_in_other_words_is_shown_once(embedder):
    """Seen on the page: the model's paraphrase of the guide's sentence, then two sentences on
    the sentence itself, sharing too few words for the one-word-swap rule (cosine 0.94)."""
    text = ("While ML is an incredibly technical space, many of the fundamentals you need to understand to"
            " maximize business impact have little to do with developing complex algorithms. This tutorial"
            " has 6 parts.")
    texts, passages = _one_passage("guide.md", text)
    answer = ("While ML is technically challenging, many of the fundamentals needed to maximize business impact"
              " have little to do with developing complex algorithms [1]. While ML is an incredibly technical"
              " space, many of the fundamentals you need to understand to maximize business impact have little"
              " to do with developing complex algorithms [1].")
    result = verify(answer, passages, texts, embedder)
    assert len(result.sentences) == 1 and result.sentences[0].text.startswith("While ML is technically")
    off = verify(answer, passages, texts, embedder, VerifyConfig(repeat_similarity=2.0))
    assert len(off.sentences) == 2


def test_a_name_in_a_sentence_is_cited_to_the_passage_that_names_it(embedder):
    """Two courses in one sentence cited [1], where [1] names only the first (the page, stop
    45): the second course's passage is cited too, so each name shows its source."""
    articles = {
        "cs50.md": "Two of the courses I have found most useful are: CS50: Introduction to Computer Science by"
                   " Harvard. I audited this course a few years ago.",
        "nlp.md": "Data Scientist: NLP Specialist Career Path by CodeAcademy. I started doing this course when I"
                  " joined a climate tech startup.",
    }
    passages = []
    for n, doc in enumerate(articles, start=1):
        text = articles[doc]
        hit = Hit(Chunk(doc, 0, 0, len(text), "", text), doc, 1.0, 0.5, 1.0, n)
        passages.append(Passage(n, hit, 0, len(text), text))
    answer = ("CS50: Introduction to Computer Science by Harvard and Data Scientist: NLP Specialist Career Path"
              " by CodeAcademy [1].")
    result = verify(answer, passages, articles, embedder, question="Which online courses were most useful?")
    assert result.sentences[0].passages == [1, 2] and result.sentences[0].supported
    assert set(result.quotes) == {1, 2}


def test_a_list_with_an_item_no_passage_states_is_flagged(embedder):
    """Stop 48: the passage speaks of collaboration between disciplines and of business impact,
    and that carried a list of reasons ML projects fail that the articles never give."""
    text = ("While ML is an incredibly technical space, many of the fundamentals you need to understand to "
            "maximize business impact have little to do with developing complex algorithms. They're about "
            "ensuring you ask the right questions, understand the process of developing ML models, and "
            "structure an organization that fosters constant collaboration between disciplines rather than "
            "treating data science as a black box that will magically generate insights.")
    articles, passages = _one_passage("guide.md", text)
    q = "Why do ML projects fail?"
    invented = ("ML projects fail because they lack clear objectives, lack proper data quality, lack collaboration "
                "between disciplines, and lack a clear understanding of the business impact [1].")
    result = verify(invented, passages, articles, embedder, question=q)
    assert not result.sentences[0].supported and result.sentences[0].passages == []
    # Each item stated by the passage: the list stands.
    stated = ("ML PMs need to ask the right questions, understand the process of developing ML models, and "
              "foster constant collaboration between disciplines [1].")
    result = verify(stated, passages, articles, embedder, question=q)
    assert result.sentences[0].supported and result.sentences[0].passages == [1]
