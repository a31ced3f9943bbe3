"""End to end with the real embedding model, a real index of corpus/ and the real bundled LLM."""

import pytest

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
    """`make setup` builds llama.cpp with AVX-512 where the CPU has every flag the build uses
    (prompts evaluate ~1.4x faster, scripts/install_llama_cpp.sh), and the portable AVX2 build
    elsewhere."""
    from pathlib import Path

    import llama_cpp

    flags = set(Path("/proc/cpuinfo").read_text().split())
    needed = {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw", "avx512vbmi", "avx512_vnni",
              "avx512_bf16", "avx_vnni"}
    info = llama_cpp.llama_print_system_info().decode()
    assert "AVX2 = 1" in info
    if needed <= flags:
        assert "AVX512 = 1" in info and "AVX512_VNNI = 1" in info and "AVX512_BF16 = 1" in info, info
