"""`pmrag eval`: score answers against a QA file, or retrieval on a BEIR folder, and print the
figures (one JSON object with `--json`). The scoring is `rag.answer_eval` (the QA file:
`rag.qa_file`) and `rag.evaluation`; the rest of the command line is `rag.cli`."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from pathlib import Path

from rag.config import Settings
from rag.embedding import Embedder
from rag.progress import ProgressBar

log = logging.getLogger(__name__)

Flags = Callable[[argparse.ArgumentParser], None]


def add_eval_commands(sub: argparse._SubParsersAction, common: Flags, store_flags: Flags) -> None:
    """The `eval` command and its `answers` and `retrieval` subcommands."""
    ev = sub.add_parser("eval", help="measure retrieval or answer quality")
    ev_sub = ev.add_subparsers(dest="eval_command", required=True)
    sp = ev_sub.add_parser("answers", help="score answers against a QA file (JSON lines)",
                           description="Each line: {id, question, answer: str|null, must_include: [str],"
                                       " evidence: [{doc, quote}]}; answer null = not answerable; doc is the"
                                       " article's file in corpus/ or its original file name, as a path"
                                       " or without extension too. A quote"
                                       " is found in the article ignoring case, line breaks and curly"
                                       " quotes, and may leave words out with ... or …; one that is not"
                                       " found is reported on stderr. A follow-up"
                                       " adds history: [[question, answer], ...] and standalone: the"
                                       " question written out in full. With no index yet (a clean"
                                       " clone), the index is built from the corpus first.")
    common(sp)
    sp.add_argument("--qa", type=Path, required=True, help="QA file, e.g. eval/dev_qa.jsonl")
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.add_argument("--per-item", action="store_true", help="include every item's result in --json")
    sp.add_argument("-k", "--top-k", type=int, help="passages to use (default 4)")
    sp.add_argument("--history", choices=["chat", "none", "standalone"], default="chat",
                    help="a follow-up is asked after its history (chat, default), alone (none: the"
                         " baseline without rewriting), or as its written-out standalone question")
    sp.set_defaults(func=_cmd_eval_answers)

    sp = ev_sub.add_parser("retrieval", help="nDCG@10, recall, MRR and latency on a BEIR folder",
                           description="DATASET holds corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv."
                                       " Its index is built once into the cache (RAG_CACHE_DIR/eval/).")
    sp.add_argument("--dataset", type=Path, required=True, help="BEIR folder")
    sp.add_argument("--split", default="test", help="qrels split to score (default test)")
    sp.add_argument("--k", type=int, default=10, help="cutoff for nDCG/Recall/MRR (default 10)")
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    store_flags(sp)
    sp.set_defaults(func=_cmd_eval_retrieval)


def _cmd_eval_answers(args: argparse.Namespace) -> int:
    from rag import answer_eval, qa_file
    from rag.assistant import Assistant

    settings = Settings.from_flags(args, top_k=args.top_k)
    items = qa_file.read_qa(args.qa)
    assistant = Assistant.load(settings, embedder=_ensure_index(settings))
    for item in items:  # a quote the index lacks would silently count as never cited
        for ev, (_, start, _) in zip(item.evidence, qa_file.gold_spans(item, assistant.index), strict=True):
            if start < 0:
                log.warning("%s: evidence quote not found in %s, so it counts as never cited: %r",
                            item.id, ev.doc, ev.quote[:80])
    bar = None if args.json else ProgressBar()
    report = answer_eval.run(items, assistant.ask, lambda: assistant.index,
                             progress=(lambda d, t: bar("answer", d, t)) if bar else None,
                             history_mode=args.history)
    if bar:
        bar.close()
    summary = report.to_dict() if args.per_item else report.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            print(f"{key:28} {value}")
    return 0


def _ensure_index(settings: Settings) -> Embedder:
    """Build the index when there is none, so the command runs from a clean clone; an index
    older than the articles is scored as it is (rebuilding it is the user's call), with a warning."""
    from rag.assistant import build_embedder
    from rag.indexing import index_is_current, update_index
    from rag.stores import open_store

    embedder = build_embedder(settings)
    store = open_store(settings)
    if not store.exists():
        log.warning("no index yet: building it from %s first", settings.corpus_dir)
        report = update_index(settings, embedder, store)
        for failure in report.failed:
            log.warning("not indexed: %s: %s", failure.path, failure.reason)
    elif not index_is_current(settings, store):
        log.warning("the index is older than the articles in %s; `pmrag index` brings it up to date",
                    settings.corpus_dir)
    return embedder


def _cmd_eval_retrieval(args: argparse.Namespace) -> int:
    from rag.assistant import build_embedder
    from rag.evaluation import evaluate_retrieval

    settings = Settings.from_flags(args)
    progress = None if args.json else ProgressBar()
    report = evaluate_retrieval(settings, build_embedder(settings), args.dataset, split=args.split,
                                k=args.k, progress=progress)
    if progress:
        progress.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return 0
    d = report.to_dict()
    print(f"{report.dataset} [{report.split}], {report.queries} queries")
    for key in (f"ndcg@{args.k}", f"recall@{args.k}", "recall@100", f"mrr@{args.k}"):
        print(f"  {key:<16}{d[key]:.4f}")
    print(f"  {'latency p50':<16}{d['latency_ms_p50']:.1f} ms")
    print(f"  {'latency p95':<16}{d['latency_ms_p95']:.1f} ms")
    return 0
