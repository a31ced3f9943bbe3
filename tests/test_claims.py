from rag.chunking import Chunk
from rag.claims import (
    content_words,
    is_first_person_copy,
    named_authors,
    names,
    names_in,
    quantities,
    speaks_for,
    states,
    swaps_in_asked,
)
from rag.passages import Passage
from rag.retrieval import Hit


def test_quantities_pair_numbers_with_their_unit_and_period():
    assert quantities("About 4-day weeks, 1,000 users, three hours and 2.5 months. Then 3") == {
        ("4", "day", "week"), ("1000", "user", ""), ("3", "hour", ""), ("2.5", "month", ""), ("3", "", "")}
    assert quantities("Four days a week") == quantities("a 4-day week") == {("4", "day", "week")}
    assert quantities("10 hours per week") == quantities("10 hours a week") == {("10", "hour", "week")}
    assert quantities("$8 per month") == quantities("$8 a month") == {("8", "month", "")}


def test_one_as_a_pronoun_is_no_quantity():
    """blind4 e14: "an excellent grasp of one's trade" needed a passage stating 1 of something."""
    for text in ("a grasp of one's trade", "one of the best blogs", "no one noticed", "which one is it"):
        assert quantities(text) == set(), text
    assert quantities("one hour a week") == {("1", "hour", "week")}
    assert quantities("it is one component of the feature") == {("1", "compon", "")}


def test_a_passage_states_a_quantity_only_with_its_unit():
    passage = quantities("I follow a 3 step process. The course took almost 18 months.")
    assert states(passage, {("3", "step", "")}) and states(passage, {("18", "", "")})
    assert not states(passage, {("3", "hour", "")})


def test_a_rate_is_stated_only_over_the_same_period():
    """The follow-up answer "The author spends 72 hours a week learning now." cited the
    passage's "In the 72 hours that followed, I explained ..." (stop 24)."""
    passage = quantities("In the 72 hours that followed, I explained it 20 times per day. I work "
                         "less than 10 hours per week.")
    assert not states(passage, quantities("He spends 72 hours a week learning."))
    assert states(passage, quantities("It took 72 hours."))
    assert states(passage, quantities("He learns for less than 10 hours a week."))
    assert not states(passage, quantities("He learns for 10 hours a day."))
    assert states(passage, quantities("He explained it 20 times a day."))


def test_a_time_stated_as_a_rate_is_not_stated_as_a_total():
    """Fresh f06: "How many weeks does CS50 take?" answered "4 days [1]" from the passage's "a
    4-day work week". Days a week are not days in all; "$8" still comes from "$8 per month"."""
    passage = quantities("I introduced a 4-day work week. It cost $8 per month. It took 18 months.")
    assert not states(passage, quantities("4 days"))
    assert states(passage, quantities("He works 4 days a week."))
    assert states(passage, quantities("He paid $8.")) and states(passage, quantities("It took 18 months."))


def test_named_authors_needs_a_name_not_a_word():
    authors = ["Tyna Hope", "Yael Gavish", ""]
    assert named_authors("What does Gavish say about data?", authors) == {"Yael Gavish"}
    assert named_authors("Gavish says data matters.", authors) == {"Yael Gavish"}
    assert named_authors("Hope's advice is to ask.", authors) == {"Tyna Hope"}
    assert named_authors("Tyna Hope wrote it.", authors) == {"Tyna Hope"}
    assert named_authors("Hope is not a strategy.", authors) == set()
    assert named_authors("I hope so.", authors) == set()


def test_a_passage_speaks_for_its_author_or_one_it_names():
    def passage(text: str, author: str) -> Passage:
        hit = Hit(Chunk("a.md", 0, 0, len(text), "", text), "a.md", 1.0, 0.5, 1.0, 1)
        return Passage(1, hit, 0, len(text), text, author=author)

    assert speaks_for(passage("Data matters.", "Yael Gavish"), {"Yael Gavish"})
    assert speaks_for(passage("As Gavish puts it, data matters.", ""), {"Yael Gavish"})
    assert not speaks_for(passage("Data matters.", "Tyna Hope"), {"Yael Gavish"})


def test_a_swap_is_a_near_copy_with_the_questions_word_in_another_words_place():
    source = "In healthcare, AI has been used to analyze medical data and assist in diagnosing diseases."
    passage = content_words(source + " In finance, AI algorithms detect fraud.")
    asked = content_words("Examples of AI use in finance?")
    swapped = "In finance, AI has been employed to analyze medical data and assist in diagnosing diseases."
    assert swaps_in_asked(swapped, source, passage, asked)
    # The copy as written, or the question's word where the passage never uses it, is no swap.
    assert not swaps_in_asked(source, source, passage, asked)
    assert not swaps_in_asked(swapped.replace("finance", "medicine"), source, passage,
                              content_words("How is AI used in medicine?"))
    # Too little copied to align: the sentence is judged by the usual scores.
    assert not swaps_in_asked("In finance, AI helps.", source, passage, asked)


def test_a_first_person_copy_is_a_near_copy_that_says_i_or_we():
    source = "I have taken on a couple of projects for my team in the past year."
    assert is_first_person_copy(source, source)
    assert is_first_person_copy("I have taken on a couple of projects for my team.", source)
    # A paraphrase, or a sentence with no first person, is the assistant's own.
    assert not is_first_person_copy("I took on projects.", source)
    third = "Models become stale over time."
    assert not is_first_person_copy(third, third)


def test_a_long_name_is_found_one_typo_away_a_short_one_only_as_spelled():
    words = {"career", "path", "by", "codeacademy", "lavish", "cs51"}
    assert names_in({"codecademy"}, words)  # the article's "CodeAcademy" (blind3 d07)
    assert names_in({"codeacadmey"}, {"codeacademy"})  # two letters swapped
    assert not names_in({"codecademy", "harvard"}, words)
    assert not names_in({"gavish"}, words) and not names_in({"cs50"}, words)
    assert not names_in({"udacityxyz"}, {"codeacademy"})


def test_names_are_capitalised_words_inside_a_sentence_or_spelled_like_names():
    assert names("How many weeks does CS50: Introduction to Computer Science by Harvard take?") == {
        "cs50", "computer", "science", "harvard"}
    assert names("I use Cursor as my IDE. It helps me. TensorFlow and MLOps too.") == {"cursor", "tensorflow", "mlops"}
    assert names("Is Gavish's step-by-step guide meant for an ML PM in March?") == {"gavish"}
    assert names("What does the author say about monitoring?\n- Listen first.") == set()
    assert names("Does a PM's 4-day week suit ML work at Google’s?") == {"google"}


def test_each_part_of_a_hyphenated_word_is_judged_on_its_own():
    # Read whole, "ex-ML-engineer" had inner capitals and named "ex", which no passage has: a
    # right answer quoting the question's words was refused (blind6 h18).
    assert names("Which concepts did the ex-ML-engineer in the newsletter say to learn?") == set()
    assert names("It suits ML-based and LLM-powered features, says the technical-PM blogger.") == set()
    assert names("He hired ex-Google engineers for a TensorFlow-based model, CS50-style.") == {
        "google", "tensorflow", "cs50"}
