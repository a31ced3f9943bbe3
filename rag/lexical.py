"""The BM25 side of hybrid retrieval: bm25s index over chunk texts, weighted queries, RM3.

`LexicalIndex` tokenises with bm25s (English stop words, Snowball stemming), indexes each
chunk's embedding text (title and heading included, optionally the title repeated for
field weighting), and scores *weighted* queries as one sparse matrix-vector product, which
is what RM3 pseudo-relevance feedback needs: `expand` turns a question plus the top
first-pass chunks into term weights (RM1 over the feedback set, interpolated with the
original question). Fusion with the dense side is left to `rag.retrieval`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import bm25s
import numpy as np
import Stemmer
from scipy import sparse

# Abbreviations PM articles use without defining them. BM25 cannot know that "DS" is "data
# science"; a question in long form missed the passage that said "DS" (docs/answers.md).
# PM, ML and AI are left out on purpose: nearly every passage is about them, so expanding
# them pulled in generic passages (gold evidence in the top 4 fell from 33 to 30 of 38 dev
# questions with ML, 32 with AI).
DEFAULT_ACRONYMS: dict[str, tuple[str, ...]] = {
    "DS": ("data science", "data scientist", "data scientists"),
    "LLM": ("large language model",),
    "LLMs": ("large language models",),
    "NLP": ("natural language processing",),
}


def expand_acronyms(question: str, acronyms: Mapping[str, Sequence[str]]) -> str:
    """The question plus the other form of each abbreviation it uses, in either direction."""
    extra: list[str] = []
    for short, longs in acronyms.items():
        has_short = re.search(rf"\b{re.escape(short)}\b", question) is not None  # case matters: "ds" is not DS
        has_long = any(re.search(rf"\b{re.escape(lf)}\b", question, re.IGNORECASE) for lf in longs)
        if has_short and not has_long:
            extra.append(longs[0])
        elif has_long and not has_short:
            extra.append(short)
    return question if not extra else f"{question} {' '.join(extra)}"


def _tokenize(texts: list[str], stemmer: Stemmer.Stemmer) -> bm25s.tokenization.Tokenized:
    """bm25s's tokens with term ids in sorted order. bm25s numbers terms in the order of a
    Python set, which changes with every process (PYTHONHASHSEED); the ids decide the order in
    which a text's term scores are summed and how RM3 breaks ties between equally weighted
    terms, so the same question retrieved different passages after a restart (stop 28: blind2
    c10's 4th passage, fused score 0.602 or 0.585 by the seed)."""
    docs = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
    vocab = {t: i for i, t in enumerate(sorted({t for doc in docs for t in doc}))}
    return bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in doc] for doc in docs], vocab=vocab)


class LexicalIndex:
    """BM25 over a fixed list of texts. Read-only after construction; thread-safe."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75, method: str = "lucene",
                 acronyms: Mapping[str, Sequence[str]] | None = None):
        self._acronyms = acronyms or {}
        self._stemmer = Stemmer.Stemmer("english")
        tokens = _tokenize(list(texts), self._stemmer)
        self._bm25 = bm25s.BM25(k1=k1, b=b, method=method)
        self._bm25.index(tokens, show_progress=False)
        self.vocab: dict[str, int] = dict(self._bm25.vocab_dict)
        s = self._bm25.scores
        # bm25s stores precomputed per-(term, doc) BM25 weights column-wise by term; as a
        # scipy matrix a weighted query is one mat-vec instead of one call per term.
        self._matrix = sparse.csc_matrix((s["data"], s["indices"], s["indptr"]),
                                         shape=(s["num_docs"], len(s["indptr"]) - 1)).tocsr()
        # Term counts per text, for RM3's p(term | feedback text).
        self._doc_terms: list[tuple[np.ndarray, np.ndarray]] = []
        for ids in tokens.ids:
            uniq, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
            self._doc_terms.append((uniq, counts.astype(np.float32)))
        # Same id space as the matrix: Tokenized.vocab and vocab_dict agree for indexed terms.
        self._tok_to_col = np.array([self.vocab.get(t, -1) for t in sorted(tokens.vocab, key=tokens.vocab.get)],
                                    dtype=np.int64)
        df = np.diff(sparse.csc_matrix(self._matrix).indptr).astype(np.float32)
        n = max(s["num_docs"], 1)
        self._idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)

    @property
    def size(self) -> int:
        return self._matrix.shape[0]

    def query_terms(self, question: str) -> dict[int, float]:
        """Column ids of the question's known terms, weight 1 each (repeats add up)."""
        question = expand_acronyms(question, self._acronyms)
        toks = bm25s.tokenize([question], stopwords="en", stemmer=self._stemmer,
                              return_ids=False, show_progress=False)[0]
        weights: dict[int, float] = {}
        for t in toks:
            col = self.vocab.get(t)
            if col is not None:
                weights[col] = weights.get(col, 0.0) + 1.0
        return weights

    def scores(self, weights: dict[int, float]) -> np.ndarray:
        """BM25 score of every text for a weighted query (0 where no term matches)."""
        if not weights:
            return np.zeros(self.size, dtype=np.float32)
        q = np.zeros(self._matrix.shape[1], dtype=np.float32)
        for col, w in weights.items():
            q[col] = w
        return np.asarray(self._matrix @ q, dtype=np.float32).ravel()

    def expand(self, weights: dict[int, float], feedback: Sequence[int], feedback_weights: Sequence[float],
               *, terms: int = 10, mix: float = 0.5) -> dict[int, float]:
        """RM3: (1 - mix) * original query + mix * the `terms` best RM1 terms of the feedback
        texts. Both halves are normalised to sum 1 first, so `mix` means what it says."""
        if not weights or not feedback or terms <= 0 or mix <= 0:
            return weights
        fw = np.asarray(feedback_weights, dtype=np.float64)
        fw = fw / fw.sum() if fw.sum() > 0 else np.full(len(feedback), 1.0 / len(feedback))
        rm1: dict[int, float] = {}
        for row, p_doc in zip(feedback, fw, strict=False):
            ids, counts = self._doc_terms[row]
            if not len(ids):
                continue
            cols = self._tok_to_col[ids]
            probs = counts / counts.sum()
            for col, p in zip(cols.tolist(), probs.tolist(), strict=False):
                if col >= 0:
                    # Weighting by idf keeps generic words of the feedback texts ("study",
                    # "result") from crowding out the topical ones.
                    rm1[col] = rm1.get(col, 0.0) + p_doc * p * float(self._idf[col])
        best = sorted(rm1.items(), key=lambda kv: -kv[1])[:terms]
        total_q = sum(weights.values())
        total_e = sum(v for _, v in best) or 1.0
        out = {c: (1 - mix) * w / total_q for c, w in weights.items()}
        for col, v in best:
            out[col] = out.get(col, 0.0) + mix * v / total_e
        return out
