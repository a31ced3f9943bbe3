"""Query section of `pmrag bench`: retrieval latency at SciFact scale, and `ask` end to end
against raw llama-cpp-python on the same prompt.

Retrieval runs SciFact claims through `HybridRetriever.search` (what `ask` calls) in three
set-ups: dense only (query embedding + cosine against every chunk vector + top k, i.e. the
dense side alone), hybrid first stage (dense + BM25, fused, feedback off) and the default
hybrid with its second stage (pseudo-relevance feedback). Each latency includes embedding
the question.

Ask: the `Assistant` over a copy of the PM corpus with the bundled GGUF model. Its chat
model is wrapped only to record the exact messages it sends; the same messages then go to
the same loaded `llama_cpp.Llama` through `create_chat_completion` with the same greedy
settings. When the assistant asked twice (a NOT COVERED retry), raw runs both prompts too,
so both sides do the same work. Before every run the model's context is reset, so neither side reuses the
other's evaluated prompt (the app itself keeps the shared system prompt between questions,
so its real time to first token can be a little lower). Building the index is left to
`rag.indexing`; the report to `rag.bench`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import PrivateAttr

from rag.beir import BeirDataset
from rag.bench_util import Stopwatch, load_average, percentile
from rag.config import Settings
from rag.embedding import Embedder
from rag.generation import _ROLES, LlamaCppChat
from rag.retrieval import HybridRetriever, RetrievalConfig, _top
from rag.store import FaissStore

log = logging.getLogger(__name__)


def run_retrieval(dataset: BeirDataset, settings: Settings, embedder: Embedder, n_queries: int) -> dict[str, Any]:
    """p50/p95 ms per question for dense only, hybrid, and hybrid + second stage."""
    from rag.assistant import retrieval_config

    data = FaissStore(settings.index_dir).load()
    questions = [dataset.queries[q] for q in sorted(dataset.queries)[:n_queries]]
    default = retrieval_config(settings)
    out: dict[str, Any] = {"query_index_chunks": len(data.chunks), "query_index_docs": len(data.articles),
                           "query_questions": len(questions), "query_embed_model": embedder.name,
                           "query_load_avg": load_average()}
    with Stopwatch() as sw:
        hybrid = HybridRetriever(data, embedder, default)
    out["query_bm25_build_s"] = round(sw.seconds, 2)
    first_stage = HybridRetriever(data, embedder, _with(default, feedback_docs=0))
    for q in questions[:5]:  # warm-up: first calls allocate
        hybrid.search(q, settings.top_k)

    def dense(q: str) -> Any:
        scores = data.vectors @ embedder.embed_query(q)
        return _top(scores, settings.top_k)

    for name, fn in (("dense", dense), ("hybrid", lambda q: first_stage.search(q, settings.top_k)),
                     ("hybrid_2nd_stage", lambda q: hybrid.search(q, settings.top_k))):
        ms = []
        for q in questions:
            t0 = time.perf_counter()
            fn(q)
            ms.append((time.perf_counter() - t0) * 1000)
        out[f"query_{name}_p50_ms"] = round(percentile(ms, 50), 1)
        out[f"query_{name}_p95_ms"] = round(percentile(ms, 95), 1)
    out.update(run_omp_policy(questions))
    return out


_EMBED_PROBE = """
import json, sys, time
from rag.assistant import build_embedder
from rag.config import Settings
e = build_embedder(Settings.load())
for _ in range(3):
    e.embed_query("warm up")
ms = []
for q in json.loads(sys.argv[1]):
    t0 = time.perf_counter(); e.embed_query(q); ms.append((time.perf_counter() - t0) * 1000)
print(json.dumps(sorted(ms)[len(ms) // 2]))
"""


def run_omp_policy(questions: list[str]) -> dict[str, Any]:
    """Median ms of one query embedding in a fresh process with OpenMP's default wait policy
    (threads spin) and with OMP_WAIT_POLICY=PASSIVE (what `pmrag` sets): under load from
    other jobs, spinning threads starve each other."""
    out: dict[str, Any] = {"omp_load_avg": load_average()}
    for name, policy in (("default", None), ("passive", "PASSIVE")):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        if policy:
            env["OMP_WAIT_POLICY"] = policy
        done = subprocess.run([sys.executable, "-c", _EMBED_PROBE, json.dumps(questions[:20])], env=env,
                              capture_output=True, text=True, timeout=600)
        try:
            out[f"query_embed_p50_ms_omp_{name}"] = round(float(done.stdout.strip().splitlines()[-1]), 1)
        except (ValueError, IndexError):
            log.warning("embedding probe failed: %s", done.stderr[-300:])
    return out


def _with(config: RetrievalConfig, **changes: Any) -> RetrievalConfig:
    return RetrievalConfig(**dict(config.to_dict(), **changes))


class _RecordingChat(LlamaCppChat):
    """The local chat model, keeping a copy of every message list it is asked to answer."""

    _sent: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self._sent.append(list(messages))
        self.load().reset()  # no prompt prefix reused from the previous run
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def run_ask(settings: Settings, embedder: Embedder, work: Path, questions: list[str]) -> dict[str, Any]:
    """Time to first token and tokens/s of `Assistant.stream` and of raw llama-cpp."""
    from rag.assistant import Assistant
    from rag.indexing import update_index
    from rag.models import ensure_bundled_model

    folder = work / "ask"
    shutil.copytree(settings.corpus_dir, folder / "corpus")
    pm = settings.model_copy(update={"corpus_dir": folder / "corpus", "index_dir": folder / "index"})
    update_index(pm, embedder)
    model_path = ensure_bundled_model(pm.models_dir)
    chat = _RecordingChat(model_path=str(model_path), n_threads=pm.llm_threads, n_ctx=pm.llm_context,
                          max_tokens=pm.llm_max_tokens, flash_attn=pm.llm_flash_attn)
    with Stopwatch() as sw:
        llm = chat.load()
    import llama_cpp

    out: dict[str, Any] = {"ask_model": model_path.name, "ask_model_load_s": round(sw.seconds, 2),
                           # how llama.cpp was compiled decides prompt speed (scripts/install_llama_cpp.sh)
                           "ask_llama_cpp_cpu": llama_cpp.llama_print_system_info().decode().strip(),
                           "ask_flash_attn": chat.flash_attn,
                           "ask_threads": pm.llm_threads, "ask_max_tokens": pm.llm_max_tokens,
                           "ask_load_avg_start": load_average()}
    assistant = Assistant(pm, embedder, FaissStore(pm.index_dir), chat)
    app_ttft, app_rate, raw_ttft, raw_rate, prompt_tokens = [], [], [], [], []
    calls = 0
    for question in questions:
        sent_before = len(chat._sent)
        t0 = time.perf_counter()
        first = end = 0.0
        raw_text = ""
        for event in assistant.stream(question):
            if isinstance(event, str):
                end = time.perf_counter()  # the last token; the citation check comes after
                first = first or end
                raw_text += event
        if not first:
            log.warning("ask: %r was refused without the LLM; not timed", question)
            continue
        n_app = len(llm.tokenize(raw_text.encode("utf-8"), add_bos=False))
        app_ttft.append(first - t0)
        app_rate.append((n_app - 1) / (end - first) if n_app > 1 and end > first else 0.0)

        # Raw llama-cpp does the same work: every prompt the assistant sent for this
        # question (a NOT COVERED retry is two), each from a reset context as the app's
        # were; its first token is the first token of the last one, the one the page shows.
        payloads = [[{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in msgs]
                    for msgs in chat._sent[sent_before:]]
        calls += len(payloads)
        prompt_tokens.append(len(llm.tokenize(str(payloads[-1]).encode("utf-8"))))
        t0 = time.perf_counter()
        for payload in payloads[:-1]:
            llm.reset()
            llm.create_chat_completion(payload, temperature=0.0, top_k=1, repeat_penalty=1.05,
                                       max_tokens=pm.llm_max_tokens)
        llm.reset()
        first, text = 0.0, ""
        for part in llm.create_chat_completion(payloads[-1], stream=True, temperature=0.0, top_k=1,
                                               repeat_penalty=1.05, max_tokens=pm.llm_max_tokens):
            piece = part["choices"][0]["delta"].get("content")
            if piece:
                first = first or time.perf_counter()
                text += piece
        end = time.perf_counter()
        n_raw = len(llm.tokenize(text.encode("utf-8"), add_bos=False))
        raw_ttft.append(first - t0)
        raw_rate.append((n_raw - 1) / (end - first) if n_raw > 1 and end > first else 0.0)
        log.info("ask %r (%d LLM calls): app ttft %.1fs %.1f tok/s, raw ttft %.1fs %.1f tok/s", question[:40],
                 len(payloads), app_ttft[-1], app_rate[-1], raw_ttft[-1], raw_rate[-1])
    if not app_ttft:
        return out
    out.update(
        ask_questions=len(app_ttft),
        ask_llm_calls=calls,  # more than the questions when the model said NOT COVERED and was asked again
        ask_prompt_tokens_approx=round(percentile(prompt_tokens, 50)),
        ask_first_token_s=round(percentile(app_ttft, 50), 2),
        ask_tokens_per_s=round(percentile(app_rate, 50), 2),
        raw_llama_first_token_s=round(percentile(raw_ttft, 50), 2),
        raw_llama_tokens_per_s=round(percentile(raw_rate, 50), 2),
        ask_first_token_ratio_vs_raw=round(percentile(app_ttft, 50) / max(percentile(raw_ttft, 50), 1e-9), 3),
        ask_tokens_per_s_ratio_vs_raw=round(percentile(app_rate, 50) / max(percentile(raw_rate, 50), 1e-9), 3),
        ask_load_avg_end=load_average(),
    )
    return out
