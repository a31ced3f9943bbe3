"""Where each key fact of a QA set is lost, read from recordings of the real model.

    python benchmarks/fact_losses.py eval/dev_qa.jsonl raw_dev.jsonl [eval/fresh_qa.jsonl raw_fresh.jsonl ...]

The recordings come from `python benchmarks/answer_tuning.py record --qa ... --out raw_<set>.jsonl`;
each set is replayed (no LLM runs). For every `must_include` phrase of an answerable
question it prints one line: the question id, where the phrase was lost, and the number of
the first passage shown to the model that holds it (0: none does). Where it was lost:

    OK      in the final answer;
    RETR    in none of the passages the model was shown (retrieval and passage windows);
    MODEL   shown to the model, but not in its reply;
    CUT     in the model's reply, but not in the answer shown (verification cut it).

A "/refused" suffix marks a question that ended in a refusal. The last lines sum the tags,
and the share of facts kept by the number of the passage that holds them: the small model
keeps far more of what passage [1] says (docs/answers.md, stop 39). Figures go to
docs/answers.md; this is a developer tool, not part of the product.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_tuning import Replay  # noqa: E402
from langchain_core.messages import BaseMessage  # noqa: E402

from rag import qa_file  # noqa: E402
from rag.answer_eval import fact_found  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.config import Settings  # noqa: E402

# A passage block of the answer prompt opens "[n] (title ...)" on a line of its own (rag.prompting).
_BLOCK = re.compile(r"(?m)^\[(\d+)\] \(")


class Watching(Replay):
    """A replay that keeps the last answer prompt (the one holding the passages)."""

    last_prompt: str = ""

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any):  # noqa: ANN201 - as Replay._stream
        prompt = str(messages[-1].content)
        if prompt.startswith("Passages:"):
            self.last_prompt = prompt
        yield from super()._stream(messages, stop, run_manager, **kwargs)


def shown_passages(prompt: str) -> dict[int, str]:
    """Passage number -> its text as the model saw it (the question line left out)."""
    body = prompt.rsplit("\n\nQuestion:", 1)[0]
    marks = list(_BLOCK.finditer(body))
    return {int(m.group(1)): body[m.start(): (marks[i + 1].start() if i + 1 < len(marks) else len(body))]
            for i, m in enumerate(marks)}


def losses(qa_path: Path, raw_path: Path, settings: Settings) -> list[tuple[str, str, int, str]]:
    outputs = {}
    for line in raw_path.read_text().splitlines():
        row = json.loads(line)
        outputs[row["prompt"]] = row["raw"]
    model = Watching(outputs=outputs)
    a = Assistant.load(settings, chat_model=model)
    rows = []
    for item in qa_file.read_qa(qa_path):
        if not item.answerable:
            continue
        model.last_prompt = ""
        answer = a.ask(item.question, history=list(item.history)) if item.history else a.ask(item.question)
        passages = shown_passages(model.last_prompt) if answer.llm_called else {}
        for fact in item.must_include:
            where = next((n for n, text in sorted(passages.items()) if fact_found(fact, text)), 0)
            if fact_found(fact, answer.text):
                tag = "OK"
            elif fact_found(fact, answer.raw_answer or ""):
                tag = "CUT"
            else:
                tag = "MODEL" if where else "RETR"
            rows.append((item.id, tag + ("/refused" if answer.refused else ""), where, fact))
    return rows


def main() -> None:
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    settings = Settings.load()
    rows = []
    for qa_path, raw_path in zip(args[::2], args[1::2], strict=True):
        rows += losses(Path(qa_path), Path(raw_path), settings)
    for item_id, tag, where, fact in rows:
        print(f"{item_id} {tag} {where} {fact!r}")
    print(dict(Counter(tag for _, tag, _, _ in rows)), f"of {len(rows)} key facts")
    by_passage: dict[int, list[int]] = {}
    for _, tag, where, _ in rows:
        if where:
            by_passage.setdefault(where, [0, 0])[0] += tag == "OK"
            by_passage[where][1] += 1
    print("kept, by the first passage holding the fact:",
          ", ".join(f"[{n}] {k}/{t}" for n, (k, t) in sorted(by_passage.items())))


if __name__ == "__main__":
    main()
