"""`pmrag`: the command line. Thin on purpose: parse flags, call the library, print.

Every `RagError` becomes one line on stderr and exit code 2; a finished index run with
failed files exits 1. Status goes through `logging` to stderr, so `--json` output on stdout
stays exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

from rag.cli_eval import add_eval_commands
from rag.config import Settings
from rag.errors import RagError
from rag.progress import ProgressBar

log = logging.getLogger("rag.cli")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # OpenMP threads (torch, faiss) spin while waiting by default; on 2 cores shared with other
    # jobs that made one query embedding ~50x slower (830 ms vs 15 ms, docs/BENCHMARKS.md).
    # Read once when the OpenMP runtime loads, so it must be set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _quiet_libraries(args.verbose)
    try:
        return int(args.func(args) or 0)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pmrag", description="Ask your PM articles; answers cite their sources.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--corpus", type=Path, help="articles folder (default ./corpus, RAG_CORPUS_DIR)")
        sp.add_argument("--index", type=Path, help="index folder (default ./index, RAG_INDEX_DIR)")
        sp.add_argument("--llm", choices=["local", "gguf", "openai", "ollama"], help="LLM backend (RAG_LLM)")
        sp.add_argument("--llm-model", help="model name or GGUF path (RAG_LLM_MODEL)")
        sp.add_argument("--llm-base-url", help="server URL for openai/ollama (RAG_LLM_BASE_URL)")
        store_flags(sp)

    def store_flags(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--store", metavar="URL", help="use Postgres + pgvector at URL instead of the index"
                                                       " folder (RAG_STORE_URL), e.g. postgresql://u:p@host/db")
        sp.add_argument("--collection", help="corpus name inside that database (default 'default', RAG_COLLECTION)")

    sp = sub.add_parser("index", help="build or update the index from the corpus folder")
    common(sp)
    sp.add_argument("paths", nargs="*", type=Path, help="article files to copy into the corpus first")
    sp.add_argument("--json", action="store_true", help="print one JSON summary object")
    sp.add_argument("--dry-run", action="store_true", help="list what would change; write nothing")
    sp.add_argument("--full", action="store_true", help="re-chunk every article (embeddings stay cached)")
    sp.add_argument("--wait", action="store_true", help="wait for another running index update")
    sp.add_argument("--if-needed", action="store_true", help="do nothing when the index is up to date")
    sp.add_argument("--url", action="append", default=[], metavar="URL",
                    help="fetch a web article into the corpus as Markdown (repeatable)")
    sp.set_defaults(func=_cmd_index)

    sp = sub.add_parser("ask", help="answer a question from the articles",
                        description="Prints the verified answer and its sources. While the model reads"
                                    " its passages, stderr names the articles being read, and says when they"
                                    " are read a second time.")
    common(sp)
    sp.add_argument("question")
    sp.add_argument("--json", action="store_true", help="print one JSON object (no reading note)")
    sp.add_argument("-k", "--top-k", type=int, help="passages to use (default 4)")
    sp.set_defaults(func=_cmd_ask)

    sp = sub.add_parser("serve", help="serve the chat page")
    common(sp)
    sp.add_argument("--host", help="bind address (default 127.0.0.1)")
    sp.add_argument("--port", type=int, help="port (default 7860)")
    sp.add_argument("--share", action="store_true", help="opt in to a public Gradio share link")
    sp.set_defaults(func=_cmd_serve)

    sp = sub.add_parser("config", help="print the effective settings (secrets masked)")
    common(sp)
    sp.set_defaults(func=_cmd_config)

    add_eval_commands(sub, common, store_flags)

    st = sub.add_parser("store", help="manage the index store (Postgres)")
    st_sub = st.add_subparsers(dest="store_command", required=True)
    sp = st_sub.add_parser("migrate", help="copy a FAISS index folder into Postgres without re-embedding")
    sp.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR", help="FAISS index folder")
    sp.add_argument("--to", dest="target", required=True, metavar="URL", help="postgresql://... URL")
    sp.add_argument("--collection", help="collection to write (default 'default', RAG_COLLECTION)")
    sp.add_argument("--wait", action="store_true", help="wait for a running index update of that collection")
    sp.add_argument("--json", action="store_true", help="print one JSON object")
    sp.set_defaults(func=_cmd_store_migrate)

    sp = sub.add_parser("bench", help="measure speed and memory; writes docs/BENCHMARKS.md + benchmarks.json",
                        description="Ingest, incremental update, retrieval and ask latency, memory, and"
                                    " flat vs HNSW at 10k-1M vectors, each against a baseline from the same"
                                    " run. Full run: about 30 min on 2 cores plus ~20 min for the 1M pgvector build; --quick: a few minutes.")
    sp.add_argument("--quick", action="store_true", help="small sizes (10k/100k vectors, few queries)")
    sp.add_argument("--out", type=Path, help="folder for the two files (default docs/; with --quick"
                                             " RAG_CACHE_DIR/bench-quick/)")
    sp.add_argument("--dataset", type=Path, help="SciFact BEIR folder (default $RAG_BENCH_DATASET or"
                                                 " /work/shared/data/scifact)")
    sp.add_argument("--only", action="append", metavar="SECTION",
                    help="run only these sections (repeatable): ingest, incremental, query, ask, memory, scale, pgvector")
    sp.add_argument("--nice", type=int, default=5, help="lower this process's priority by N (default 5)")
    sp.set_defaults(func=_cmd_bench)

    sp = sub.add_parser("fetch-model", help="download and verify the bundled models (done by make setup)")
    sp.set_defaults(func=_cmd_fetch_model)
    return p


def _quiet_libraries(verbose: bool) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    level = logging.DEBUG if verbose else logging.ERROR
    for name in ("faiss", "faiss.loader", "sentence_transformers", "transformers", "bm25s", "httpx"):
        logging.getLogger(name).setLevel(level)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except Exception:  # transformers is optional for --help
        pass


def _cmd_index(args: argparse.Namespace) -> int:
    from rag.assistant import build_embedder
    from rag.corpus_files import add_files
    from rag.indexing import Failure, index_is_current, update_index

    settings = Settings.from_flags(args)
    copied: list[str] = []
    pre_failed: list[Failure] = []
    if args.paths and not args.dry_run:
        copied, pre_failed = add_files(args.paths, settings.corpus_dir, max_mb=settings.max_file_mb)
        for name in copied:
            log.info("copied into %s: %s", settings.corpus_dir, name)
    if args.url and not args.dry_run:
        from rag.errors import DocumentError
        from rag.webfetch import save_url

        for url in args.url:
            try:
                saved = save_url(url, settings.corpus_dir, max_mb=settings.max_file_mb)
                log.info("saved %s as %s", url, saved.name)
            except DocumentError as exc:
                pre_failed.append(Failure(url, str(exc)))
    if args.if_needed and not pre_failed and index_is_current(settings):
        if args.json:
            print(json.dumps({"up_to_date": True}))
        return 0
    embedder = build_embedder(settings)
    progress = None if args.json else ProgressBar()
    report = update_index(settings, embedder, dry_run=args.dry_run, full=args.full,
                          progress=progress, wait_for_lock=args.wait)
    if progress:
        progress.close()
    report.failed = pre_failed + report.failed
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_report(report)
    return 1 if report.failed else 0


def _print_report(report: Any) -> None:
    verb = "Would update" if report.dry_run else "Indexed"
    if report.full_rebuild_reason:
        print(f"Full rebuild: {report.full_rebuild_reason}")
    for label, items in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for item in items:
            print(f"  {label:8} {item}")
    for f in report.failed:
        print(f"  failed   {f.path}: {f.reason}")
    chunks = "" if report.dry_run else f", {report.chunks} chunks ({report.embedded_chunks} embedded)"
    print(f"{verb} {report.documents} articles{chunks} in {report.seconds:.1f}s")


def _cmd_ask(args: argparse.Namespace) -> int:
    from rag.assistant import Assistant

    settings = Settings.from_flags(args, top_k=args.top_k)
    assistant = Assistant.load(settings)
    if args.json:
        print(json.dumps(assistant.ask(args.question).to_dict(), ensure_ascii=False))
        return 0
    from rag.answer import Reading, Rereading
    from ui.render import reading_note, rereading_note

    answer = None
    for event in assistant.stream(args.question, progress=True):
        if isinstance(event, Reading):  # the ~5 s of prompt evaluation need not be silent
            print(reading_note(event, args.question), file=sys.stderr, flush=True)
        elif isinstance(event, Rereading):
            print(rereading_note(event, draft=False), file=sys.stderr, flush=True)
        elif not isinstance(event, str):  # raw tokens may carry wrong markers: the verified text comes last
            answer = event
    print(format_answer(answer))
    return 0


def format_answer(answer: Any) -> str:
    lines = [textwrap.fill(answer.text, 100), ""]
    if answer.refused:
        lines.append("Nearest passages:")
        cites = answer.nearest
    else:
        lines.append("Sources:")
        cites = answer.citations
    for c in cites:
        where = c.title + (f", {c.byline}" if c.byline else "") + (f" › {c.heading}" if c.heading else "")
        lines.append(f"[{c.n}] {where} ({c.doc_id}, chars {c.start}-{c.end}, score {c.score:.2f})")
        lines.append(textwrap.indent(textwrap.fill(f"“{c.quote or c.text}”", 96), "    "))
    unsupported = [s.text for s in answer.sentences if not s.supported]
    if unsupported:
        lines.append("Not supported by the articles: " + " | ".join(unsupported))
    return "\n".join(lines)


def _cmd_serve(args: argparse.Namespace) -> int:
    from ui.app import serve

    settings = Settings.from_flags(args, host=args.host, port=args.port)
    serve(settings, share=args.share)
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    print(json.dumps(Settings.from_flags(args).public_dict(), indent=2))
    return 0


def _cmd_store_migrate(args: argparse.Namespace) -> int:
    from rag.pgstore import PgStore, migrate
    from rag.store import FaissStore

    settings = Settings.load(collection=args.collection)
    result = migrate(FaissStore(args.source), PgStore(args.target, settings.collection), wait=args.wait)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"Copied {result['documents']} articles, {result['chunks']} chunks from {result['from']}"
              f" to {result['to']} in {result['seconds']:.1f}s (no re-embedding)")
    return 0


def _cmd_fetch_model(args: argparse.Namespace) -> int:
    from rag.models import EMBEDDING_GEMMA, ensure_bundled_model, ensure_embedding_gemma

    settings = Settings.load()
    print(ensure_bundled_model(settings.models_dir))
    if settings.embed_model == EMBEDDING_GEMMA:
        print(ensure_embedding_gemma(settings.models_dir))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from rag import bench

    sections = tuple(args.only or bench.SECTIONS)
    unknown = sorted(set(sections) - set(bench.SECTIONS))
    if unknown:
        print(f"error: unknown section(s) {', '.join(unknown)}; use {', '.join(bench.SECTIONS)}", file=sys.stderr)
        return 2
    if args.nice:
        os.nice(args.nice)  # other jobs share these cores; the bench yields to them
    logging.getLogger("rag").setLevel(logging.INFO if not args.verbose else logging.DEBUG)
    settings = Settings.load()
    out = args.out or (settings.cache_dir / "bench-quick" if args.quick else Path("docs"))
    results = bench.run(settings, quick=args.quick, dataset_dir=args.dataset or bench.DEFAULT_DATASET,
                        command=bench.command_line(), sections=sections)
    minutes = results["duration_s"] / 60
    previous = out / "benchmarks.json"
    if args.only and previous.is_file():
        # A partial run updates its own sections in the existing report, recording so.
        old = json.loads(previous.read_text(encoding="utf-8"))
        if old.get("mode") == results["mode"]:
            results = bench.merge(old, results, sections)
    json_path, md_path = bench.write(results, out)
    print(f"wrote {md_path} and {json_path} in {minutes:.1f} min")
    failed = [k for k in results if k.endswith("_error")]
    if failed:
        print(f"sections with errors: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
