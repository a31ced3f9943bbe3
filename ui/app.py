"""The Gradio chat page: wiring of the `rag` API to components, nothing more.

Nothing happens at import time: `build_app(assistant, settings)` makes the Blocks and
`serve(settings)` loads the assistant and launches on 127.0.0.1 (analytics off, `--share`
and `--host` opt-in, optional login from RAG_AUTH_USER / RAG_AUTH_PASSWORD). Answers,
refusals, uploads and index updates all come from `rag`; HTML comes from `ui.render`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.answer import Answer
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import RagError
from rag.indexing import add_files, update_index
from ui.render import answer_html, debug_markdown, export_markdown, feedback_record

log = logging.getLogger(__name__)

EXAMPLES = [
    "What should a PM learn before working with data scientists?",
    "How is being an ML PM different from being a regular PM?",
    "Why is monitoring important for ML products?",
    "How did the author become a more technical product manager?",
]

CSS = """
.pm-sources { margin-top: .6em; font-size: .92em; }
.pm-source { border-left: 3px solid #7c8cff; padding: .2em .6em; margin: .4em 0; }
.pm-source blockquote { margin: .3em 0; color: #333; }
.pm-source mark { background: #fff3a3; }
.pm-score { color: #777; font-size: .85em; }
.pm-unsupported { color: #a33; }
"""


def index_status(assistant: Assistant) -> str:
    m = assistant.index.manifest
    return (f"**Index:** {len(m.get('documents', {}))} articles · {m.get('chunks', 0)} chunks ·"
            f" embedder {m.get('embed_model')} · LLM {assistant.llm_name} ·"
            f" built {m.get('built_at', '?')} (generation {m.get('generation', '?')})")


def build_app(assistant: Assistant, settings: Settings) -> Any:
    import gradio as gr

    feedback_path = Path(os.environ.get("RAG_FEEDBACK_FILE", "docs/feedback.jsonl"))

    def respond(message: str, history: list[dict], answers: list[Answer], top_k: int):
        history = list(history or [])
        if not message or not message.strip():
            raise gr.Error("Type a question about the articles first.")
        history.append({"role": "user", "content": message})
        history.append({"role": "assistant", "content": "…"})
        yield history, answers, gr.update(), ""
        prior = [(a.question, a.text) for a in answers]
        answer = None
        streamed = ""
        try:
            for event in assistant.stream(message, history=prior, k=int(top_k)):
                if isinstance(event, Answer):
                    answer = event
                else:
                    streamed += event
                    history[-1] = {"role": "assistant", "content": streamed}
                    yield history, answers, gr.update(), ""
        except RagError as exc:
            history[-1] = {"role": "assistant", "content": f"⚠ {exc}"}
            yield history, answers, gr.update(), ""
            return
        history[-1] = {"role": "assistant", "content": answer_html(answer)}
        hits = assistant.search(answer.standalone_question or message, int(top_k))
        yield history, [*answers, answer], debug_markdown(answer, hits), ""

    def on_like(data: gr.LikeData, answers: list[Answer]) -> None:
        turn = data.index[0] // 2 if isinstance(data.index, list | tuple) else int(data.index) // 2
        if 0 <= turn < len(answers):
            feedback_path.parent.mkdir(parents=True, exist_ok=True)
            with feedback_path.open("a", encoding="utf-8") as fh:
                fh.write(feedback_record(answers[turn], bool(data.liked)) + "\n")

    def on_upload(files: list[Any] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008 (Gradio idiom)
        if not files:
            return "Choose one or more .md, .txt, .html or .pdf files first.", index_status(assistant)
        paths = [Path(f if isinstance(f, str) else f.name) for f in files]
        names = [p.name for p in paths]
        copied, failed = add_files(paths, settings.corpus_dir, original_names=names,
                                   max_mb=settings.max_file_mb)

        def report_progress(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=f"{stage}…")

        try:
            report = update_index(settings, assistant.embedder, progress=report_progress, wait_for_lock=True)
        except RagError as exc:
            return f"⚠ {exc}", index_status(assistant)
        failed = failed + report.failed
        lines = [f"Saved {', '.join(copied) or 'nothing'} into the corpus."]
        lines.append(f"Index: {len(report.added)} added, {len(report.changed)} changed,"
                     f" {len(report.removed)} removed; {report.documents} articles, {report.chunks} chunks.")
        lines += [f"- ⚠ **{f.path}**: {f.reason}" for f in failed]
        return "\n".join(lines), index_status(assistant)

    def on_export(answers: list[Answer]) -> str:
        path = Path(tempfile.mkdtemp(prefix="pmrag-")) / f"chat-{time.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(export_markdown(answers), encoding="utf-8")
        return str(path)

    with gr.Blocks(title="PM Learning Assistant") as demo:
        gr.Markdown("# PM Learning Assistant\nAsk about the product-management articles. Every"
                    " answer cites the passages it comes from; if the articles don't cover a"
                    " question, it says so.")
        status = gr.Markdown(index_status(assistant), elem_id="index-status")
        answers = gr.State([])
        chatbot = gr.Chatbot(elem_id="chat", height=520, sanitize_html=True,
                             placeholder="Try one of the example questions below.",
                             buttons=["copy", "copy_all"])
        with gr.Row():
            box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                             scale=8, elem_id="question", autofocus=True)
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        gr.Examples(EXAMPLES, inputs=box)
        with gr.Accordion("Settings and debug", open=False):
            top_k = gr.Slider(1, 8, value=settings.top_k, step=1, label="Passages per answer")
            debug = gr.Markdown("Ask a question to see the retrieved passages and timings.",
                                elem_id="debug")
        with gr.Accordion("Add articles", open=False):
            upload = gr.File(file_count="multiple", file_types=[".md", ".txt", ".html", ".htm", ".pdf"],
                             label="Articles (.md .txt .html .pdf)", elem_id="upload")
            add_btn = gr.Button("Add to index", elem_id="add")
            upload_status = gr.Markdown(elem_id="upload-status")
        with gr.Row():
            export_btn = gr.Button("Export chat as Markdown", size="sm")
            export_file = gr.File(label="Exported chat", interactive=False)

        outputs = [chatbot, answers, debug, box]
        send.click(respond, [box, chatbot, answers, top_k], outputs, concurrency_limit=32)
        box.submit(respond, [box, chatbot, answers, top_k], outputs, concurrency_limit=32)
        chatbot.like(on_like, [answers], None)
        add_btn.click(on_upload, [upload], [upload_status, status], concurrency_limit=1)
        export_btn.click(on_export, [answers], [export_file])
    return demo


def serve(settings: Settings, *, share: bool = False, block: bool = True) -> Any:
    """Load the assistant and launch the page; returns the Blocks when `block=False`."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import gradio as gr

    assistant = Assistant.load(settings)
    demo = build_app(assistant, settings)
    user, password = os.environ.get("RAG_AUTH_USER"), os.environ.get("RAG_AUTH_PASSWORD")
    auth = (user, password) if user and password else None
    demo.queue(default_concurrency_limit=32, max_size=256)
    demo.launch(server_name=settings.host, server_port=settings.port, share=share, auth=auth,
                prevent_thread_lock=not block, show_error=True, theme=gr.themes.Soft(), css=CSS,
                max_file_size=f"{int(settings.max_file_mb)}mb", footer_links=["api"])
    return demo
