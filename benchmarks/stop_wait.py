"""How long a reader waits after pressing Stop while the local model still reads the prompt.

The page shows "Reading 4 passages from …" as soon as the passages go to the model; llama.cpp
then evaluates the prompt (~600 tokens, several seconds on 2 cores) before the first token.
Each question is asked with the real index and the bundled model, and Stop is set `--delay`
seconds after that note; the wait is from the Stop to the final `Answer`. Two ways, in
alternating order in the same run, so the host's speed that day affects both alike:

- `abort`: the model is handed the Stop (`rag.generation.stop_kwargs`), and llama.cpp's abort
  callback ends the prompt's evaluation;
- `between tokens`: the model is not handed it (stop 43's behaviour), so the Stop is seen at
  the first token.

    .venv/bin/python benchmarks/stop_wait.py [--delay 1.0] [--questions 6]

A developer tool; the figures go to docs/answers.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag.reply_stream as reply_stream  # noqa: E402
from rag.answer import Answer, Reading  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.qa_file import read_qa  # noqa: E402

QA = Path(__file__).resolve().parents[1] / "eval" / "dev_qa.jsonl"


def stopped_wait(assistant: Assistant, question: str, delay: float) -> tuple[float, Answer]:
    """Seconds from the Stop (set `delay` s after the reading note) to the final answer."""
    stop = threading.Event()
    set_at: list[float] = []

    def press() -> None:
        set_at.append(time.perf_counter())
        stop.set()

    answer = None
    timer = None
    for event in assistant.stream(question, progress=True, stop=stop):
        if isinstance(event, Reading) and timer is None:
            timer = threading.Timer(delay, press)
            timer.start()
        elif isinstance(event, Answer):
            answer = event
    end = time.perf_counter()
    if timer is not None:
        timer.join()
    if answer is None or not set_at:
        raise RuntimeError(f"no answer, or refused before the model read anything: {question!r}")
    return end - set_at[0], answer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--delay", type=float, default=1.0, help="seconds after the reading note to press Stop")
    p.add_argument("--questions", type=int, default=6, help="answerable dev questions to ask")
    args = p.parse_args()

    assistant = Assistant.load(Settings.load())
    questions = [item.question for item in read_qa(QA) if item.answer is not None][: args.questions]
    assistant.ask(questions[0])  # loads the model and evaluates the system prompt once
    real = reply_stream.stop_kwargs
    waits: dict[str, list[float]] = {"abort": [], "between tokens": []}
    rows = []
    for i, question in enumerate(questions):
        order = ["abort", "between tokens"] if i % 2 == 0 else ["between tokens", "abort"]
        for way in order:
            reply_stream.stop_kwargs = real if way == "abort" else (lambda _model, _stop: {})
            try:
                wait, answer = stopped_wait(assistant, question, args.delay)
            finally:
                reply_stream.stop_kwargs = real
            waits[way].append(wait)
            rows.append({"question": question, "way": way, "wait_s": round(wait, 3),
                         "stopped_at": answer.stopped_at, "refused": answer.refused})
    summary = {way: {"p50_s": round(statistics.median(w), 3), "max_s": round(max(w), 3), "n": len(w)}
               for way, w in waits.items()}
    ratio = summary["between tokens"]["p50_s"] / max(summary["abort"]["p50_s"], 1e-6)
    print(json.dumps({"delay_s": args.delay, "summary": summary, "ratio_p50": round(ratio, 1), "runs": rows},
                     indent=1))


if __name__ == "__main__":
    main()
