"""rag.clauses: a claim without the model's trailing gloss, and the two sides of a comparison."""

import pytest

from rag.clauses import claim_before_gloss, contrasted


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
