"""8 concurrent `pmrag ask` processes against one Postgres while a ninth keeps re-indexing.

What it checks (issue 10): every answer comes back complete, and every passage it cites
(and every nearest passage of a refusal) exists, character for character at its offsets,
in the corpus version the answer reports (`index_generation` in `pmrag ask --json`).

How: a throwaway PostgreSQL + pgvector (`pgserver`), a copy of `corpus/` indexed into it,
then 8 `pmrag ask --json --store URL` subprocesses with the real embedder and the real
bundled LLM, started 10 s apart (so they retrieve from different corpus versions) and
all running at once. Meanwhile this script runs `pmrag index --store URL` in a
loop, alternating the corpus between version A (the articles as they are) and version B
(two articles with a paragraph inserted at the top, which shifts every offset after it,
and one article removed). After each update it records the live generation and the
article texts of that generation, read back from Postgres. Run from the repo root:

    nice -n 5 .venv/bin/python benchmarks/pg_concurrency.py [--asks 8] [--json out.json]

Figures go to docs/postgres.md. A developer tool, not part of the product.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pgserver

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag.pgstore import PgStore  # noqa: E402

PMRAG = str(REPO / ".venv" / "bin" / "pmrag")
# Answerable dev questions (eval/dev_qa.jsonl) spread over the five articles.
QUESTIONS = [
    "How is AI being used in edtech?",
    "In a nutshell, how is supervised ML different from normal software development?",
    "As a PM wanting to move into AI, which core ML ideas should I get a high-level handle on first?",
    "How long did it take the author to get through the NLP data science course?",
    "what IDE does the technical PM guy use?",
    "Which Python framework does he plan to learn to ship a simple app, and why that one?",
    "What does the roadmap usually look like for a PM who owns an ML algorithm?",
    "The DS team's model looks really complex — how can I tell whether it'll work for users?",
]
NOTE = ("Editor's note: this article was updated for the team wiki. The text below is unchanged; "
        "this paragraph only moves every passage further down the page.\n\n")


def make_versions(src: Path, work: Path) -> tuple[Path, Path]:
    """Version A = the corpus as is; B = two articles with NOTE at the top, one removed."""
    a, b = work / "A", work / "B"
    shutil.copytree(src, a)
    shutil.copytree(src, b)
    files = sorted(p for p in b.iterdir() if p.is_file())
    for p in files[:2]:
        p.write_text(NOTE + p.read_text())
    files[-1].unlink()
    return a, b


def switch(corpus: Path, version: Path) -> None:
    """Make `corpus` hold exactly the files of `version` (what a user editing files does)."""
    for p in corpus.iterdir():
        if not (version / p.name).exists():
            p.unlink()
    for p in version.iterdir():
        if not (corpus / p.name).exists() or (corpus / p.name).read_bytes() != p.read_bytes():
            shutil.copy2(p, corpus / p.name)


def snapshot(url: str) -> tuple[str, dict[str, str]]:
    data = PgStore(url).load()
    return data.generation, {d: a.text for d, a in data.articles.items()}


def check(answer: dict[str, Any], versions: dict[str, dict[str, str]]) -> tuple[list[str], int]:
    """Problems with one answer (unknown generation, or a cited passage that is not in it),
    and how many of its passages another version would have failed: the check has teeth
    only for passages of articles that differ between versions."""
    gen = answer.get("index_generation", "")
    if gen not in versions:
        return [f"generation {gen!r} was never live"], 0
    texts = versions[gen]
    problems = []
    telling = 0
    for c in answer["citations"] + answer["nearest"]:
        text = texts.get(c["doc_id"])
        telling += any(t.get(c["doc_id"]) != text for t in versions.values())
        if text is None:
            problems.append(f"{c['doc_id']} is not in generation {gen}")
        elif text[c["start"]:c["end"]] != c["text"] or text[c["quote_start"]:c["quote_end"]] != c["quote"]:
            problems.append(f"{c['doc_id']}[{c['start']}:{c['end']}] differs from generation {gen}")
    return problems, telling


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--asks", type=int, default=8)
    ap.add_argument("--stagger", type=float, default=10.0, help="seconds between starting two asks")
    ap.add_argument("--json", type=Path, help="write the results here too")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pmrag-conc-"))
    server = pgserver.get_server(work / "pg", cleanup_mode="delete")
    url = server.get_uri()
    ver_a, ver_b = make_versions(REPO / "corpus", work)
    corpus = work / "corpus"
    shutil.copytree(ver_a, corpus)

    def index() -> float:
        t = time.perf_counter()
        subprocess.run([PMRAG, "index", "--store", url, "--corpus", str(corpus), "--wait", "--json"],
                       check=True, capture_output=True, text=True)
        return time.perf_counter() - t

    index()
    versions: dict[str, dict[str, str]] = {}
    gen, texts = snapshot(url)
    versions[gen] = texts
    t0 = time.perf_counter()
    questions = (QUESTIONS * 2)[: args.asks]
    asks: list[subprocess.Popen] = []

    def start_asks() -> None:  # staggered, so the asks read the index at different moments
        for i, q in enumerate(questions):
            if i:
                time.sleep(args.stagger)
            asks.append(subprocess.Popen([PMRAG, "ask", "--json", "--store", url, "--corpus", str(corpus), q],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

    starter = threading.Thread(target=start_asks)
    starter.start()
    updates: list[float] = []
    flip = True
    while starter.is_alive() or any(p.poll() is None for p in asks):
        switch(corpus, ver_b if flip else ver_a)
        flip = not flip
        updates.append(index())
        gen, texts = snapshot(url)
        versions[gen] = texts
    starter.join()
    wall = time.perf_counter() - t0
    rows = []
    for q, p in zip(questions, asks, strict=True):
        out, err = p.communicate()
        row: dict[str, Any] = {"question": q, "exit": p.returncode}
        try:
            ans = json.loads(out)
        except json.JSONDecodeError:
            row.update(complete=False, problems=[f"no JSON answer; stderr: {err.strip()[-300:]}"])
            rows.append(row)
            continue
        problems, telling = check(ans, versions)
        row.update(complete=p.returncode == 0 and bool(ans["answer"].strip()), refused=ans["refused"],
                   citations=len(ans["citations"]), nearest=len(ans["nearest"]),
                   generation=ans["index_generation"], total_s=round(ans["timings"]["total_ms"] / 1000, 1),
                   passages_checked=len(ans["citations"]) + len(ans["nearest"]), passages_in_changed_articles=telling,
                   problems=problems, answer=ans["answer"][:120])
        rows.append(row)
    gens_used = {r.get("generation") for r in rows}
    summary = {
        "asks": len(rows), "complete": sum(bool(r.get("complete")) for r in rows),
        "cited": sum(1 for r in rows if r.get("citations")), "refused": sum(1 for r in rows if r.get("refused")),
        "answers_with_problems": sum(1 for r in rows if r.get("problems")),
        "passages_checked": sum(r.get("passages_checked", 0) for r in rows),
        "passages_in_changed_articles": sum(r.get("passages_in_changed_articles", 0) for r in rows),
        "index_updates_during_asks": len(updates), "generations_live": len(versions),
        "generations_answered_from": len(gens_used),
        "update_s_p50": round(sorted(updates)[len(updates) // 2], 1) if updates else None,
        "wall_s": round(wall, 1), "ask_s_max": max((r.get("total_s") or 0) for r in rows),
    }
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "asks": rows}, indent=1, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
