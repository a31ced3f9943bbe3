"""`pmrag bench`: run every benchmark section and write docs/BENCHMARKS.md + benchmarks.json.

Sections, in order: ingest and incremental (`rag.bench_ingest`, SciFact abstracts as
files), retrieval latency and `ask` against raw llama-cpp (`rag.bench_query`), peak memory
of `pmrag index` and `pmrag serve` (`rag.bench_memory`), flat against HNSW at 10k to
1M synthetic vectors (`rag.bench_ann`), and Postgres + pgvector on the same vectors at
SciFact's chunk count and 1M (`rag.bench_pg`, a throwaway `pgserver`). Every ratio
compares against a baseline measured in the same run, the JSON is flat (one key per
figure) and both files carry the machine, the command and the load average, because on a
shared 2-core machine the figures move with other jobs. The full run without the pgvector section is sized to finish within 30
minutes on 2 idle cores (its 1M index build adds tens of minutes; `--only` runs it alone);
`--quick` uses small sizes and takes a few minutes. A section that fails is recorded as
`<section>_error` and the others still run. Measuring is left to the section modules.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.bench_util import load_average, machine
from rag.config import Settings

log = logging.getLogger(__name__)

DEFAULT_DATASET = Path(os.environ.get("RAG_BENCH_DATASET", "/work/shared/data/scifact"))
SECTIONS = ("ingest", "incremental", "query", "ask", "memory", "scale", "pgvector")


@dataclass(frozen=True)
class Sizes:
    ingest_docs: int
    incremental_docs: int
    queries: int
    ask_questions: int
    scale: tuple[int, ...]
    scale_queries: int
    pgvector: tuple[int, ...]  # 18,169 = SciFact's chunk count; queries: scale_queries


FULL = Sizes(ingest_docs=150, incremental_docs=10**9, queries=300, ask_questions=2,
             scale=(10_000, 100_000, 1_000_000), scale_queries=100, pgvector=(18_169, 1_000_000))
QUICK = Sizes(ingest_docs=40, incremental_docs=800, queries=50, ask_questions=1,
              scale=(10_000, 100_000), scale_queries=50, pgvector=(2_000, 10_000))


def run(settings: Settings, *, quick: bool, dataset_dir: Path, command: str,
        sections: tuple[str, ...] = SECTIONS, qa_file: Path = Path("eval/dev_qa.jsonl")) -> dict[str, Any]:
    """Run the chosen sections and return the flat results (see the module docstring)."""
    from rag.assistant import build_embedder
    from rag.beir import load_beir
    from rag.store import AnnConfig

    sizes = QUICK if quick else FULL
    results: dict[str, Any] = dict(machine(), command=command, mode="quick" if quick else "full",
                                   started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   nice=os.nice(0), load_avg_start=load_average())
    t_start = time.perf_counter()
    embedder = build_embedder(settings)
    dataset = None
    if {"ingest", "incremental", "query", "memory"} & set(sections):
        try:
            dataset = load_beir(dataset_dir, "train")
        except Exception as exc:  # a missing dataset skips its sections, not the run
            results["dataset_error"] = f"{dataset_dir}: {exc}"
    results["dataset"] = str(dataset_dir)
    state: dict[str, Any] = {}

    with tempfile.TemporaryDirectory(prefix="pmrag-bench-") as tmp:
        work = Path(tmp)

        def ingest() -> dict[str, Any]:
            from rag.bench_ingest import run_ingest

            return run_ingest(dataset, sizes.ingest_docs, work, settings)

        def incremental() -> dict[str, Any]:
            from rag.bench_ingest import run_incremental

            rate = float(results.get("ingest_pipeline_chunks_per_s") or 0.0)
            out, state["scifact"] = run_incremental(dataset, sizes.incremental_docs, work, settings, rate)
            return out

        def query() -> dict[str, Any]:
            from rag.bench_query import run_retrieval

            if "scifact" not in state:
                raise RuntimeError("needs the index of the incremental section")
            return run_retrieval(dataset, state["scifact"], embedder, sizes.queries)

        def ask() -> dict[str, Any]:
            from rag.bench_query import run_ask

            state["questions"] = _questions(qa_file, sizes.ask_questions)
            return run_ask(settings, embedder, work, state["questions"])

        def memory() -> dict[str, Any]:
            from rag.bench_memory import index_rss, serve_rss

            out: dict[str, Any] = {}
            if "scifact" in state:
                sci = state["scifact"]
                out.update(index_rss(sci.corpus_dir, sci.cache_dir, work))
            pm = work / "ask"
            if (pm / "index").is_dir():
                question = (state.get("questions") or _questions(qa_file, 1))[0]
                out.update(serve_rss(pm / "corpus", pm / "index", question))
            return out

        def scale() -> dict[str, Any]:
            from rag.bench_ann import run as run_scale

            return run_scale(list(sizes.scale), sizes.scale_queries, AnnConfig.from_settings(settings))

        def pgvector() -> dict[str, Any]:
            from rag.bench_pg import run as run_pg

            return run_pg(list(sizes.pgvector), sizes.scale_queries)

        steps: dict[str, Callable[[], dict[str, Any]]] = {
            "ingest": ingest, "incremental": incremental, "query": query, "ask": ask,
            "memory": memory, "scale": scale, "pgvector": pgvector,
        }
        for name in sections:
            if dataset is None and name in ("ingest", "incremental", "query"):
                results[f"{name}_error"] = "SciFact dataset not available"
                continue
            log.warning("bench: %s (load average %.2f, %.0f s so far)", name, load_average(),
                        time.perf_counter() - t_start)
            t0 = time.perf_counter()
            try:
                results.update(steps[name]())
            except Exception as exc:  # record it and go on: one broken section is not a broken run
                log.exception("bench section %s failed", name)
                results[f"{name}_error"] = f"{type(exc).__name__}: {exc}"[:300]
            results[f"{name}_section_s"] = round(time.perf_counter() - t0, 1)
    results["load_avg_end"] = load_average()
    results["duration_s"] = round(time.perf_counter() - t_start, 1)
    return results


def _questions(path: Path, n: int) -> list[str]:
    """The first `n` answerable dev questions (the corpus covers them)."""
    found = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("answer"):
                    found.append(row["question"])
    except (OSError, json.JSONDecodeError):
        pass
    return (found or ["Why do ML features need ongoing monitoring after launch?"])[:n]


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """benchmarks.json (flat) and BENCHMARKS.md into `out_dir`, each written atomically."""
    from rag.bench_report import render

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / "benchmarks.json", out_dir / "BENCHMARKS.md")
    for path, text in zip(paths, (json.dumps(results, indent=2, ensure_ascii=False) + "\n", render(results)),
                          strict=True):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return paths


# Keys each section writes, by prefix: a re-run of some sections replaces exactly these.
_PREFIXES = {"ingest": ("ingest_",), "incremental": ("incr_",), "query": ("query_", "omp_"),
             "ask": ("ask_", "raw_llama_"), "memory": ("memory_",), "scale": ("scale_", "ann_1m_", "flat_1m_"),
             "pgvector": ("pg_",)}


def merge(previous: dict[str, Any], rerun: dict[str, Any], sections: tuple[str, ...]) -> dict[str, Any]:
    """`previous` with the figures of `sections` replaced by a later run of only those
    sections; the later command and time are recorded beside the first run's."""
    stale = tuple(pre for s in sections for pre in _PREFIXES[s]) + tuple(f"{s}_" for s in sections)
    merged = {k: v for k, v in previous.items() if not k.startswith(stale)}
    merged.update({k: v for k, v in rerun.items() if k.startswith(stale)})
    label = ", ".join(sections)
    # The machine line at the top is the first run's; a section re-run on another CPU says so,
    # or its times would read as if measured on the first run's machine.
    cpu = rerun.get("machine_cpu")
    where = f" on {cpu}" if cpu and cpu != previous.get("machine_cpu") else ""
    note = f"{label}: `{rerun.get('command')}` at {rerun.get('started_at')}{where}" \
           f" (load average {rerun.get('load_avg_start')} -> {rerun.get('load_avg_end')})"
    # An earlier re-run of the same sections is superseded: its figures are gone too.
    kept = [n for n in str(previous.get("rerun") or "").split("; ") if n and not n.startswith(f"{label}: ")]
    merged["rerun"] = "; ".join([*kept, note])
    return merged


def command_line(argv: list[str] | None = None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return "pmrag " + " ".join(args)
