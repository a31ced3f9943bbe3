"""`benchmarks/prompt_eval.py --variant`: the values are checked before any model loads, and
each variant is timed beside the default on the real bundled model."""

import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.models import ensure_bundled_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from prompt_eval import compare, parse_variants  # noqa: E402


def test_variants_parse_into_llama_keyword_arguments():
    assert parse_variants(['batch 256={"n_batch": 256, "n_ubatch": 256}', 'kv q8_0={"type_k": 8}']) == {
        "batch 256": {"n_batch": 256, "n_ubatch": 256}, "kv q8_0": {"type_k": 8}}


@pytest.mark.parametrize("specs, says", [
    (["batch 256"], "expected NAME=JSON"),
    (['={"n_batch": 256}'], "expected NAME=JSON"),
    (["b={n_batch: 256}"], "is not JSON"),
    (["b=[256]"], "must be an object"),
    (['default={"n_batch": 256}'], "is taken"),
    (['b={"n_batch": 256}', 'b={"n_batch": 128}'], "is taken"),
])
def test_a_bad_variant_is_refused_by_name(specs, says):
    with pytest.raises(ValueError, match=says):
        parse_variants(specs)


@pytest.mark.llm
def test_each_variant_is_timed_beside_the_default_on_the_real_model():
    import llama_cpp

    path = str(ensure_bundled_model(Settings.load().models_dir))
    vocab_only = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    tokens = vocab_only.tokenize(b"A product manager balances user value, usability and technical viability.")
    out = compare(path, tokens, {"batch 32": {"n_batch": 32, "n_ubatch": 32}}, threads=2, repeat=1)
    assert set(out) == {"default", "batch 32"}
    assert out["default"]["ratio_to_default"] == 1.0
    assert all(v["prompt_tokens_per_s"] > 0 for v in out.values())
