"""rag.clauses: a claim without the model's trailing gloss, and the two sides of a comparison."""

import pytest

from rag.clauses import claim_before_gloss, contrasted, listed_items


@pytest.mark.parametrize(("sentence", "claim"), [
    ("The churn model provides a probability of customer churn, which can help the business decide.",
     "The churn model provides a probability of customer churn."),
    ("Cursor writes code from natural language prompts, allowing him to move faster.",
     "Cursor writes code from natural language prompts."),
    # A clause closed by a later comma is inside the claim.
    ("The churn model, which the data scientists build, helps the business decide.", ""),
    ("The churn model, which helps.", ""),  # too little before it to be a claim
    ("Monitoring is not optional.", ""),  # no gloss
])
def test_the_claim_before_a_gloss(sentence, claim):
    assert claim_before_gloss(sentence) == claim


def test_the_two_sides_of_a_comparison():
    assert contrasted("Gavish's advice covers the process, while Hope's focuses on the move to ML PM.") == [
        "Gavish's advice covers the process.", "Hope's focuses on the move to ML PM."]
    assert contrasted("The guide is long; but the technical PM post is short and practical.") == [
        "The guide is long.", "The technical PM post is short and practical."]
    assert contrasted("Monitoring matters while the model runs.") == []  # a side too short to claim
    assert contrasted("Monitoring is not optional for ML products.") == []


@pytest.mark.parametrize(("sentence", "items"), [
    ("ML projects fail because they lack clear objectives, lack proper data quality, lack collaboration"
     " between disciplines, and lack a clear understanding of the business impact.",
     ["lack clear objectives", "lack proper data quality", "lack collaboration between disciplines",
      "lack a clear understanding of the business impact"]),
    ("Understand the problem, communicate it clearly, listen and be empathetic.",
     ["communicate it clearly", "listen", "be empathetic"]),
    # The list after "such as": its first item cannot be told from the words leading to it.
    ("Tech companies have open sourced platforms such as Amazon AI, TensorFlow, and many others.",
     ["TensorFlow", "many others"]),
    # "e.g." opens the words leading to the list, not an item.
    ("Ops work needs some tooling, e.g. pipeline hardening, alarms and backfills.", ["alarms", "backfills"]),
    # Clauses, not items.
    ("To date, they were too cheap to pay the $8 per month subscription, but they signed up to the"
     " mailing list and found the free articles very informative.", []),
    ("To work with data scientists day to day, you need to understand their skills and communicate well.", []),
    ("Monitoring is not optional, and models go stale.", []),
])
def test_the_items_of_a_list_after_its_first(sentence, items):
    assert listed_items(sentence) == items
