"""Tune the answer pipeline on the dev QA set without paying for the LLM on every try.

The slow part of `pmrag eval answers` is generation (~10-30 s per question on 2 cores).
Retrieval, passage selection, the refusal gate and citation verification are cheap, so this
script splits the two:

    python benchmarks/answer_tuning.py retrieval  --qa eval/dev_qa.jsonl
        where does the gold evidence land: in the top-k hits, in the passages shown to the LLM;
        best dense similarity of answerable vs unanswerable questions (for `min_relevance`).
    python benchmarks/answer_tuning.py record --qa eval/dev_qa.jsonl --out /tmp/raw.jsonl
        runs the real pipeline once and keeps each raw LLM output (keyed by the prompt).
    python benchmarks/answer_tuning.py replay --qa eval/dev_qa.jsonl --raw /tmp/raw.jsonl \
        [RAG_VERIFY_MIN_SUPPORT=0.4 ...]
        re-scores with the recorded outputs: verification and refusal settings change, the LLM
        does not run. Changing the prompt or passages needs a new `record`, or:
    python benchmarks/answer_tuning.py replay --qa eval/dev_qa.jsonl --raw /tmp/raw.jsonl \
        --live /tmp/new.jsonl
        a prompt that was recorded gets its recording, any other goes to the real LLM and is
        appended to the --live file. A change to the retry (its instruction, when it fires)
        then costs only the new retries; add the --live file to --raw for the next try.
    python benchmarks/answer_tuning.py probe --qa eval/dev_qa.jsonl
        the bundled model's probability of opening with "NOT" (NOT COVERED) on the first prompt
        and on the retry, per question, next to its greedy first token.
    python benchmarks/answer_tuning.py retry --qa eval/dev_qa.jsonl --ids q13,q28 --ban NOT,Not,NO
        what the real model's retry says for those questions with those words banned.

Figures from it go to docs/answers.md. It is a developer tool, not part of the product.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag import answer_eval, qa_file  # noqa: E402
from rag.assistant import GATE_DEPTH, Assistant  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.generation import banned_words_kwargs  # noqa: E402
from rag.passages import Passage, select_passages  # noqa: E402
from rag.prompting import build_messages  # noqa: E402


def _key(messages: list[BaseMessage], kwargs: dict[str, Any]) -> str:
    """A recording's key: the last prompt message, plus the words the call banned (the same
    prompt with and without a ban gives different outputs)."""
    key = str(messages[-1].content)
    if kwargs.get("banned_words"):
        key += "\n[banned: " + ", ".join(kwargs["banned_words"]) + "]"
    return key


class Recorder(BaseChatModel):
    """Wraps a real chat model and appends each output, keyed by its last prompt message, to `out`."""

    inner: Any
    out: str
    accepts_banned_words: ClassVar[bool] = True  # passed on to `inner` when it accepts them

    @property
    def _llm_type(self) -> str:
        return "recorder"

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        out = ""
        options = banned_words_kwargs(self.inner, kwargs.get("banned_words") or (),
                                      continues=bool(kwargs.get("continues")))
        try:
            for chunk in self.inner.stream(messages, stop=stop, **options):
                out += str(chunk.content)
                yield ChatGenerationChunk(message=AIMessageChunk(content=chunk.content))
        finally:
            # Also when the assistant stops reading (a loop cut by rag.markers.repeat_start):
            # the part it read replays to the same answer.
            with open(self.out, "a") as f:  # written as it goes: a long run can be watched or resumed
                f.write(json.dumps({"prompt": _key(messages, options), "raw": out}) + "\n")

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class Replay(BaseChatModel):
    """Returns the recorded output for a prompt. A prompt never recorded goes to `live` (a
    `Recorder` around the real model) when there is one; otherwise it gets the output of the
    same question's prompt, and fails loudly when that question was never recorded."""

    outputs: dict[str, str]
    live: Any = None
    calls: int = 0  # prompts answered, recorded or live: the LLM calls the settings cost
    accepts_banned_words: ClassVar[bool] = True

    @property
    def _llm_type(self) -> str:
        return "replay"

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.calls += 1
        key = _key(messages, kwargs)
        if key not in self.outputs and self.live is not None:
            yield from self.live._stream(messages, stop, run_manager, **kwargs)
            return
        if key not in self.outputs:  # prompt wording changed since the recording: match the question
            key = next((k for k in self.outputs if _question(k) == _question(key)), "")
        if not key:
            raise KeyError("question not recorded: " + _question(str(messages[-1].content)))
        yield ChatGenerationChunk(message=AIMessageChunk(content=self.outputs[key]))

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def _question(prompt: str) -> str:
    return prompt.rsplit("Question:", 1)[-1].split("\n")[0].strip()


def _overlap(doc: str, s: int, e: int, gold: list[tuple[str, int, int]]) -> bool:
    return any(doc == g[0] and g[1] >= 0 and s < g[2] and g[1] < e for g in gold)


def cmd_retrieval(args: argparse.Namespace) -> None:
    a = Assistant.load(Settings.load(llm="none"))
    data = a.index
    texts = {d: art.text for d, art in data.articles.items()}
    rows = []
    for item in qa_file.read_qa(Path(args.qa)):
        hits = a.search(item.question, k=args.k)
        gold = qa_file.gold_spans(item, data)
        rank = next((i + 1 for i, h in enumerate(hits) if _overlap(h.doc_id, h.chunk.start, h.chunk.end, gold)), None)
        passages = select_passages(a.embedder.embed_query(item.question), hits, texts, a.embedder,
                                   k=a.settings.top_k, max_tokens=a.settings.passage_tokens, articles=a.index.articles,
                                   lead_tokens=a.settings.lead_passage_tokens)
        in_passage = any(_overlap(p.hit.doc_id, p.start, p.end, gold) for p in passages)
        shown = " ".join(p.text for p in passages)
        facts = sum(answer_eval.fact_found(f, shown) for f in item.must_include)
        best = max((h.dense for h in hits), default=0.0)
        rows.append({"id": item.id, "answerable": item.answerable, "gold_rank": rank,
                     "in_passages": in_passage, "best_dense": round(best, 3),
                     "facts": facts, "facts_total": len(item.must_include)})
        print(f"{item.id} {'ANS' if item.answerable else 'UNA'} rank={rank!s:>4} passage={in_passage!s:5}"
              f" best={best:.3f}  {item.question[:70]}")
    ans = [r for r in rows if r["answerable"]]
    k = a.settings.top_k
    print(f"\ngold in top-{k} hits: {sum(1 for r in ans if r['gold_rank'] and r['gold_rank'] <= k)}/{len(ans)};"
          f" in passages: {sum(r['in_passages'] for r in ans)}/{len(ans)};"
          f" in top-{args.k}: {sum(1 for r in ans if r['gold_rank'])}/{len(ans)};"
          f" key facts in passages: {sum(r['facts'] for r in ans)}/{sum(r['facts_total'] for r in ans)}")
    for label, group in (("answerable", ans), ("unanswerable", [r for r in rows if not r["answerable"]])):
        vals = sorted(r["best_dense"] for r in group)
        print(f"best dense, {label}: {vals}")


def _evaluate(a: Assistant, items: list[qa_file.QAItem]) -> answer_eval.AnswerReport:
    return answer_eval.run(items, a.ask, lambda: a.index)


def cmd_record(args: argparse.Namespace) -> None:
    settings = Settings.load()
    a = Assistant.load(settings)
    Path(args.out).write_text("")
    rec = Recorder(inner=a.chat_model, out=args.out)
    a = Assistant.load(settings, chat_model=rec, embedder=a.embedder)
    items = qa_file.read_qa(Path(args.qa))
    report = _evaluate(a, items)
    _print(report, args)


def cmd_replay(args: argparse.Namespace) -> None:
    outputs = {}
    for line in Path(args.raw).read_text().splitlines():
        row = json.loads(line)
        outputs[row["prompt"]] = row["raw"]
    settings = Settings.load()
    live = None
    if args.live:
        real = Assistant.load(settings)
        live = Recorder(inner=real.chat_model, out=args.live)
    replay = Replay(outputs=outputs, live=live)
    a = Assistant.load(settings, chat_model=replay)
    _print(_evaluate(a, qa_file.read_qa(Path(args.qa))), args)
    print(json.dumps({"llm_calls": replay.calls}))


def _shown(a: Assistant, question: str, texts: dict[str, str]) -> tuple[float, list[Passage]]:
    """The best cosine among the gate's candidates and the passages the LLM sees, picked as
    `Assistant.stream` picks them."""
    found = a.search(question, k=max(a.settings.top_k, GATE_DEPTH))
    passages = select_passages(a.embedder.embed_query(question), found, texts, a.embedder, k=a.settings.top_k,
                               max_tokens=a.settings.passage_tokens, articles=a.index.articles)
    return max((h.dense for h in found), default=0.0), passages


def cmd_probe(args: argparse.Namespace) -> None:
    """The bundled model's probability of opening its reply with "NOT" (NOT COVERED), on the
    first prompt and on the retry, per question: how much of the model's belief the greedy
    refusal really holds (llama.cpp internals; a developer tool)."""
    import numpy as np
    from llama_cpp import llama_chat_format

    a = Assistant.load(Settings.load())
    llm = a.chat_model.load()
    template = llama_chat_format.Jinja2ChatFormatter(
        llm.metadata["tokenizer.chat_template"], eos_token=llm._model.token_get_text(llm.token_eos()),
        bos_token="")
    refusal = llm.tokenize(b"NOT", add_bos=False, special=False)[0]
    roles = {"human": "user", "system": "system"}

    def first_token(messages: list[tuple[str, str]]) -> tuple[float, str]:
        prompt = template(messages=[{"role": roles[r], "content": c} for r, c in messages]).prompt
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        cached = list(llm.input_ids[: llm.n_tokens])
        same = next((i for i, (x, y) in enumerate(zip(cached, tokens, strict=False)) if x != y),
                    min(len(cached), len(tokens)))
        llm.n_tokens = min(same, len(tokens) - 1)  # reuse the evaluated prefix, as generation does
        llm.eval(tokens[llm.n_tokens:])
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        top = llm.detokenize([int(np.argmax(probs))]).decode(errors="replace")
        return float(probs[refusal]), top

    texts = {d: art.text for d, art in a.index.articles.items()}
    for item in qa_file.read_qa(Path(args.qa)):
        best, passages = _shown(a, item.question, texts)
        p1, top1 = first_token(build_messages(item.question, passages))
        p2, top2 = first_token(build_messages(item.question, passages, retry=True))
        print(json.dumps({"id": item.id, "answerable": item.answerable,
                          "best_dense": round(best, 3),
                          "p_not": round(p1, 3), "greedy": top1, "p_not_retry": round(p2, 3),
                          "greedy_retry": top2}), flush=True)


def cmd_retry(args: argparse.Namespace) -> None:
    """The real model's retry for the chosen questions, with the given words banned: what a
    forced answer would say, before any change to the pipeline."""
    a = Assistant.load(Settings.load())
    texts = {d: art.text for d, art in a.index.articles.items()}
    ids = set(args.ids.split(",")) if args.ids else None
    banned = [w for w in args.ban.split(",") if w]
    for item in qa_file.read_qa(Path(args.qa)):
        if ids is not None and item.id not in ids:
            continue
        _, passages = _shown(a, item.question, texts)
        question = args.question.format(q=item.question) if args.question else item.question
        messages = build_messages(question, passages, retry=True, retry_instruction=args.instruction or "")
        reply = "".join(str(c.content) for c in a.chat_model.stream(messages, banned_words=banned))
        print(json.dumps({"id": item.id, "question": item.question, "retry": reply}), flush=True)


def _print(report: answer_eval.AnswerReport, args: argparse.Namespace) -> None:
    summary = report.summary()
    if args.per_item:
        for r in report.items:
            print(json.dumps({"id": r.id, "refused": r.refused, "facts": f"{r.facts_found}/{r.facts_total}",
                              "cites": f"{r.citations_on_evidence}/{r.citations}", "answer": r.answer[:160]}))
    print(json.dumps(summary))


def main() -> None:
    logging.basicConfig(level=getattr(logging, os.environ.get("TUNING_LOG", "WARNING")))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("retrieval")
    r.add_argument("--qa", required=True)
    r.add_argument("--k", type=int, default=20)
    rec = sub.add_parser("record")
    rec.add_argument("--qa", required=True)
    rec.add_argument("--out", required=True)
    rec.add_argument("--per-item", action="store_true")
    rep = sub.add_parser("replay")
    rep.add_argument("--qa", required=True)
    rep.add_argument("--raw", required=True)
    rep.add_argument("--per-item", action="store_true")
    rep.add_argument("--live", help="send prompts never recorded to the real LLM, appending them here")
    pr = sub.add_parser("probe")
    pr.add_argument("--qa", required=True)
    rt = sub.add_parser("retry")
    rt.add_argument("--qa", required=True)
    rt.add_argument("--ids", default="", help="comma-separated question ids (default: all)")
    rt.add_argument("--ban", default="NOT,Not,NO", help="comma-separated words the retry may not write")
    rt.add_argument("--question", default="", help="template for the question line, {q} = the question")
    rt.add_argument("--instruction", default="", help="replaces the retry's closing instruction")
    args = p.parse_args()
    commands = {"retrieval": cmd_retrieval, "record": cmd_record, "replay": cmd_replay, "probe": cmd_probe,
                "retry": cmd_retry}
    commands[args.cmd](args)


if __name__ == "__main__":
    main()
