"""Load test of the running chat page: N concurrent sessions, each asking M questions in
one conversation through the page's own `/chat` endpoint (gradio_client, streaming).

Every answer must come back with citations (a `[n]` marker and a sources panel); latencies
to the first streamed text and to the finished answer are reported as p50/p95 and written
to docs/load.md with the command that produced them. A benchmark, not a test: the numbers
depend on the machine, and the local LLM answers one question at a time by design.

    .venv/bin/pmrag serve --port 7862 &        # or `make run`
    .venv/bin/python benchmarks/load_test.py --url http://127.0.0.1:7862/
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

QUESTIONS = [
    "What should a PM learn before working with data scientists?",
    "How is being an ML PM different from being a regular PM?",
    "Why is monitoring important for ML products?",
    "How did the author become a more technical product manager?",
    "What are the steps to build a machine learning based product?",
    "What does a data science mindset mean for product management?",
    "How can a PM get into AI and ML product management?",
    "Why should a PM define success metrics before building an ML model?",
]


@dataclass
class Result:
    session: int
    question: str
    first_s: float
    total_s: float
    cited: bool
    error: str = ""


def _text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _why(final: str, debug: str) -> str:
    """A failed answer in one line: refused or not, and what the model actually wrote."""
    raw = debug.split("**Raw model output:**", 1)[-1].strip().strip("`").strip() if debug else ""
    # The page escapes the refusal text ("don&#x27;t cover"), so look for its element instead.
    kind = "refused" if 'class="pm-refusal"' in final else "no citation"
    return f"{kind}; model wrote: {' '.join(raw.split())[:160]!r}"


def run_session(url: str, session: int, questions: list[str], top_k: int, log: threading.Lock) -> list[Result]:
    from gradio_client import Client

    client = Client(url, verbose=False)  # one client = one browser session
    history: list = []
    results = []
    for q in questions:
        t0 = time.perf_counter()
        first = None
        try:
            job = client.submit(q, history, top_k, api_name="/chat")
            for update in job:  # streamed partial outputs
                if first is None and "pm-pending" not in _text(update[0][-1]):
                    first = time.perf_counter() - t0
            history, debug, *_ = job.outputs()[-1]  # then the box and the Ask and Stop buttons
            final = _text(history[-1])
            total = time.perf_counter() - t0
            cited = 'class="pm-cite"' in final and 'class="pm-source"' in final
            results.append(Result(session, q, first or total, total, cited, "" if cited else _why(final, debug)))
        except Exception as exc:  # report every failure, keep the session going
            results.append(Result(session, q, 0.0, time.perf_counter() - t0, False, repr(exc)[:200]))
        with log:
            r = results[-1]
            print(f"[s{session:02d}] {r.total_s:6.1f}s first {r.first_s:6.1f}s cited={r.cited} {q[:50]}",
                  flush=True)
    return results


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    values = sorted(values)
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)] if values else 0.0


def report(results: list[Result], args: argparse.Namespace, wall: float) -> str:
    ok = [r for r in results if r.cited]
    totals, firsts = [r.total_s for r in ok], [r.first_s for r in ok]
    cmd = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/load_test.py", *sys.argv[1:]])
    lines = [
        "# Load test: concurrent chat sessions",
        "",
        f"{args.sessions} sessions at once, each asking {args.questions} questions in one conversation"
        " through the page's `/chat` endpoint (streaming, via `gradio_client`), against a server"
        f" running the bundled local LLM; {os.cpu_count()} CPU cores shared with other work.",
        "",
        "```bash",
        "# server: a copy of corpus/ indexed into a temporary folder, then the normal page",
        "RAG_CORPUS_DIR=/tmp/load/corpus RAG_INDEX_DIR=/tmp/load/index .venv/bin/pmrag index",
        "RAG_CORPUS_DIR=/tmp/load/corpus RAG_INDEX_DIR=/tmp/load/index .venv/bin/pmrag serve --port 7862 &",
        cmd,
        "```",
        "",
        "| | value |",
        "|---|---|",
        f"| questions answered with citations | **{len(ok)} / {len(results)}** |",
        f"| latency to finished answer, p50 / p95 | {pct(totals, 50):.1f} s / {pct(totals, 95):.1f} s |",
        f"| latency to first streamed text, p50 / p95 | {pct(firsts, 50):.1f} s / {pct(firsts, 95):.1f} s |",
        f"| fastest / slowest answer | {min(totals, default=0):.1f} s / {max(totals, default=0):.1f} s |",
        f"| wall clock for all questions | {wall / 60:.1f} min ({len(results) / wall * 60:.1f} answers/min) |",
        "",
        "The local LLM generates one answer at a time (`LlamaCppChat` holds a lock), so latency"
        " under load is mostly queueing: with every session asking at once, a question waits for"
        " the answers ahead of it. Retrieval and refusals do not call the LLM, so they do not wait"
        " in that queue (not measured here).",
    ]
    failures = [r for r in results if not r.cited]
    if failures:
        lines += ["", "Not answered with citations:", ""]
        lines += [f"- session {r.session}: {r.question} — {r.error}" for r in failures]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:7860/")
    ap.add_argument("--sessions", type=int, default=16)
    ap.add_argument("--questions", type=int, default=5, help="questions per session")
    ap.add_argument("--top-k", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("docs/load.md"))
    args = ap.parse_args(argv)
    log = threading.Lock()
    # Each session starts at a different question, so the LLM sees varied prompts.
    plans = [[QUESTIONS[(s + i) % len(QUESTIONS)] for i in range(args.questions)] for s in range(args.sessions)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.sessions) as pool:
        futures = [pool.submit(run_session, args.url, s, plan, args.top_k, log) for s, plan in enumerate(plans)]
        results = [r for f in futures for r in f.result()]
    text = report(results, args, time.perf_counter() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if all(r.cited for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
