from rag.chunking import Chunk
from rag.markers import (
    finished_sentences,
    name_cited_articles,
    opens_with_markers_as_subject,
    repeat_start,
    split_answer,
    without_markers,
)
from rag.passages import Passage
from rag.retrieval import Hit


def test_an_abbreviation_does_not_end_a_sentence():
    """Dev q30 showed "... a simple model (e.g. [1] simple linear regression). [1]"."""
    parts = split_answer("Take a course that has you build a simple model (e.g. simple linear regression). [1]"
                         " Ask Dr. Ng, i.e. the teacher. [2]")
    assert parts == [("Take a course that has you build a simple model (e.g. simple linear regression).", [1]),
                     ("Ask Dr. Ng, i.e. the teacher.", [2])]


def test_split_answer_strips_markers():
    parts = split_answer("Monitoring matters [1]. Talk to data scientists [2][1].\n[2]")
    assert parts == [("Monitoring matters.", [1]), ("Talk to data scientists.", [2, 1, 2])]
    parts = split_answer("Monitoring matters. [1] Talk to data scientists [2, 3].")
    assert parts == [("Monitoring matters.", [1]), ("Talk to data scientists.", [2, 3])]



def test_split_answer_keeps_markers_glued_after_the_full_stop():
    parts = split_answer("Monitoring matters.[1] Talk to data scientists.[2]")
    assert parts == [("Monitoring matters.", [1]), ("Talk to data scientists.", [2])]
    parts = split_answer("A PM should learn statistics. [1] [2] [3]")
    assert parts == [("A PM should learn statistics.", [1, 2, 3])]


def test_markers_used_as_list_items_leave_no_stray_commas():
    # q34 of the dev set: the model listed the guide's parts as passage numbers
    parts = split_answer("The guide is organised into 6 parts: [1], [2], [3], [4], [5], and [6].")
    assert parts == [("The guide is organised into 6 parts.", [1, 2, 3, 4, 5, 6])]
    parts = split_answer("Cursor helps with two things [1] and [2]. Monitoring matters [3], [1].")
    assert parts == [("Cursor helps with two things.", [1, 2]), ("Monitoring matters.", [3, 1])]


def test_list_labels_missing_their_opening_bracket_are_dropped():
    # dev q18's retry: "B] AI algorithms ..." for a lettered list in the passage
    parts = split_answer("B] AI is used for fraud detection [1].\nC] It also helps with risk [2].")
    assert parts == [("AI is used for fraud detection.", [1]), ("It also helps with risk.", [2])]
    assert split_answer("Plan B] stays.") == [("Plan B] stays.", [])]  # only a label opening a sentence


def test_a_marker_named_as_the_source_of_a_claim_leaves_the_claim_cited():
    """blind3 d12 showed "The passage from states that having the background in DS ..."."""
    parts = split_answer("The passage from [2] states that having the background in DS is incredibly helpful."
                         " According to [1], the model goes stale. The passage [3] also mentions that PMs listen.")
    assert parts == [("Having the background in DS is incredibly helpful.", [2]),
                     ("The model goes stale.", [1]), ("PMs listen.", [3])]
    # No "that" to cut at: the source is "the article", still cited.
    parts = split_answer("The passage from [4] also highlights the intersection of DS and engineering."
                         " Read the passage from [1] first.")
    assert parts == [("The article also highlights the intersection of DS and engineering.", [4]),
                     ("Read the article first.", [1])]
    # A passage named without a marker is the model's wording, left alone.
    assert split_answer("The passage states that PMs listen. [1]") == [("The passage states that PMs listen.", [1])]


def _titled(titles: list[str]) -> list[Passage]:
    texts = ["Monitoring is not optional.", "An ML PM partners with the data science team."]
    return [Passage(n, Hit(Chunk(d, 0, 0, len(t), "", t), title, 1.0, 0.5, 1.0, n), 0, len(t), t)
            for n, (d, t, title) in enumerate(zip(["mon.md", "team.md"], texts, titles, strict=True), start=1)]


def test_a_marker_standing_for_an_article_gets_its_title_when_the_question_asks_which_article():
    passages = _titled(["Monitoring ML. ", "Working with DS teams"])
    q = "Which article should I read about monitoring?"
    assert name_cited_articles("[1] covers monitoring.", passages, q) == "“Monitoring ML” [1] covers monitoring."
    assert name_cited_articles("[1] and [2]", passages, q) == "“Monitoring ML” [1] and “Working with DS teams” [2]"
    assert name_cited_articles("Read [2].", passages, q) == "Read “Working with DS teams” [2]."
    # Markers that cite a sentence stay as they are.
    assert name_cited_articles("[2]", passages, q) == "“Working with DS teams” [2]"
    # Markers that cite a sentence stay as they are, before it or after it: "[1] Technically is a
    # knowledge base", answering "Which blogs does the technical PM recommend?".
    for answer in ["Models go stale. [1] Monitoring matters [1].", "“Monitoring ML” [1] covers it.",
                   "[1] Technically is a knowledge base for learning about software."]:
        assert name_cited_articles(answer, passages, q) == answer
    assert name_cited_articles("[1] and [2]", passages, "What is monitoring?") == "[1] and [2]"


def test_without_markers_blanks_every_marker_form():
    assert without_markers("Models go stale [1]. Monitor them [2, 3].").split() == \
        ["Models", "go", "stale", ".", "Monitor", "them", "."]


def test_repeat_start_finds_where_a_reply_starts_to_loop():
    reply = ("Regular PMs solve problems [1]. ML PMs need to consider machine learning solutions. [1]"
             " ML PMs need to consider machine learning solutions. [1] ML PMs need")
    cut = repeat_start(reply)
    # The marker opening the repeat cites the sentence before it, so it stays.
    assert reply[:cut] == ("Regular PMs solve problems [1]. ML PMs need to consider machine learning"
                           " solutions. [1]")


def test_repeat_start_ignores_markers_and_case_but_not_other_words():
    assert repeat_start("Talk to your data scientists often [1]. talk to your Data Scientists often [2]. Next") \
        == len("Talk to your data scientists often [1]. ")
    assert repeat_start("Talk to your data scientists often. Talk to your data scientists weekly. Next") is None


def test_repeat_start_waits_for_the_repeat_to_end_and_lets_short_sentences_repeat():
    # The last sentence may still be growing ("... often" could become "... often, and listen").
    assert repeat_start("Talk to your data scientists often. Talk to your data scientists often") is None
    assert repeat_start("Yes. It depends [1]. Yes. It depends [2]. More") is None
    assert repeat_start("") is None


def test_finished_sentences_cuts_a_stopped_reply_after_its_last_finished_sentence():
    assert finished_sentences("Monitoring matters [1]. It catches drift") == "Monitoring matters [1]."
    assert finished_sentences("Monitoring matters. [1] [2] It catches") == "Monitoring matters. [1] [2]"
    assert finished_sentences("It helps in two areas [1] and also") == "It helps in two areas [1]"
    assert finished_sentences('He said “learn SQL.” Then') == 'He said “learn SQL.”'
    assert finished_sentences("It takes 2.5 hours") == ""  # a decimal point ends nothing
    assert finished_sentences("The author took a course on") == ""
    assert finished_sentences("Done [1].") == "Done [1]."


def test_a_reply_opening_with_markers_for_its_subject_is_found():
    for reply in ("[1] and [2] were the courses the author found most useful.", "[2] covers how to start.",
                  " [1], [2] and [3] are the steps.", "[1,2] were both audited."):
        assert opens_with_markers_as_subject(reply), reply
    # A marker before a capital is a stray citation; markers after a claim cite it.
    for reply in ("[1] CS50: Introduction to Computer Science by Harvard.", "CS50 [1] and the NLP path [2].",
                  "The courses were CS50 and the NLP path. [1] [2] covers both."):
        assert not opens_with_markers_as_subject(reply), reply
