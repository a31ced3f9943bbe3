"""Settings: refusal gates follow the embedding model unless set."""

from rag.config import RELEVANCE_GATES, Settings


def test_refusal_gates_are_calibrated_per_embedding_model():
    assert Settings.load().relevance_gates() == RELEVANCE_GATES[Settings.load().embed_model]
    assert Settings.load(embed_model="all-MiniLM-L6-v2").relevance_gates() == (0.30, 0.35)
    assert Settings.load(embed_model="embeddinggemma-300m").relevance_gates() == (0.34, 0.40)
    # A local folder nobody calibrated gets MiniLM's pair; an explicit setting always wins.
    assert Settings.load(embed_model="/models/mine").relevance_gates() == (0.30, 0.35)
    assert Settings.load(embed_model="embeddinggemma-300m", min_relevance=0.5).relevance_gates() == (0.5, 0.40)
