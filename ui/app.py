"""The Gradio chat page: layout and wiring of the `rag` API to components, nothing more.

Nothing happens at import time: `build_app(assistant, settings)` makes the Blocks and
`serve(settings)` loads the assistant and launches on 127.0.0.1 (analytics off, `--share`
and `--host` opt-in, optional login from RAG_AUTH_USER / RAG_AUTH_PASSWORD). Event handlers
live in `ui.handlers`; HTML comes from `ui.render`; answers, uploads and index updates all
come from `rag`.
"""

# No `from __future__ import annotations`: Gradio reads the shims' annotations (gr.LikeData,
# gr.Progress) at wiring time, and string annotations of a local import cannot be resolved.
import json
import logging
import os
from pathlib import Path
from typing import Any

from rag.assistant import Assistant
from rag.config import Settings
from ui.handlers import Handlers, llm_choices

log = logging.getLogger(__name__)

EXAMPLES = [
    "What should a PM learn before working with data scientists?",
    "How is being an ML PM different from being a regular PM?",
    "Why is monitoring important for ML products?",
    "How did the author become a more technical product manager?",
]

UPLOAD_TYPES = [".md", ".markdown", ".txt", ".html", ".htm", ".pdf"]

# Many sessions may wait on the one local LLM at a time; each waiting answer holds a worker
# thread, so the thread pool is sized above the chat concurrency to keep the page responsive.
CHAT_CONCURRENCY = 32
MAX_THREADS = 64

# What Enter says while an answer runs (BUSY_NOTE_JS below). Defined first: the CSS keeps the
# note's room with a hidden copy of it.
BUSY_NOTE = ("Still answering the last question. Yours stays in the box: ask it when the answer is done,"
             " or press **Stop** first.")
# The hidden copy as a CSS string: two no-break spaces after it, so that it wraps no later than
# the note, whose "Stop" is bold.
_BUSY_NOTE_COPY = json.dumps(BUSY_NOTE.replace("**", "") + "\u00a0\u00a0", ensure_ascii=False)

CSS = """
/* The width: with auto side margins alone the page was as wide as its content, and it moved 47 px
   sideways (the chat 66 px narrower) each time the first answer was a short line. */
.gradio-container { max-width: 1280px !important; width: 100%; margin: 0 auto; }
#title h1 { margin-bottom: .1em; }
#chat .pm-sources { margin-top: .7em; font-size: .9em; border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
#chat .pm-sources summary { cursor: pointer; font-weight: 600; color: var(--body-text-color-subdued); }
#chat .pm-source { border-left: 3px solid var(--color-accent); padding: .15em .7em; margin: .5em 0;
  background: var(--background-fill-secondary); border-radius: 0 6px 6px 0; }
#chat .pm-source-head { line-height: 1.35; }
#chat .pm-source blockquote { margin: .2em 0 .1em !important; padding: 0 !important; border: none !important;
  color: var(--body-text-color); font-style: normal; opacity: .85; }
#chat .pm-source mark { background: #fff1a8; color: #222; padding: 0 .1em; border-radius: 2px; }
#chat .pm-label { font-weight: 700; color: var(--color-accent); margin-right: .3em; }
#chat .pm-score { color: var(--body-text-color-subdued); font-size: .85em; margin-left: .4em; }
#chat .pm-cite { color: var(--color-accent); font-weight: 600; }
#chat .pm-unsupported { text-decoration: underline dotted #c33; }
#chat .pm-key-quote { font-style: italic; }
#chat .pm-pending { color: var(--body-text-color-subdued); font-style: italic; }
#chat .pm-asked { color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 0.3em; }
#chat .pm-refusal { font-style: italic; }
/* Thumbs and copy under an answer still being written would rate or copy a draft. */
#chat .message-row:has(.pm-pending, .pm-writing) + .message-buttons { visibility: hidden; }
#chat .pm-writing { color: var(--body-text-color-subdued); }
/* Room kept for the note, so that it showing up does not move the page: the note's text, hidden,
   under it, as many lines as the note takes at this width (1.5em was less than one line). */
#busy-note { font-size: .88em; color: var(--body-text-color-subdued); padding: 0 .3em; }
#busy-note p { margin: 0; }
#busy-note [data-testid=markdown] { display: grid; }
#busy-note [data-testid=markdown] > *, #busy-note [data-testid=markdown]::before { grid-area: 1 / 1; line-height: 1.6; }
#busy-note [data-testid=markdown]::before { visibility: hidden; content: """ + _BUSY_NOTE_COPY + """; }
/* Ask and Stop swap places, but not in the same frame: when an answer starts, Ask leaves a frame
   before Stop comes, and the box kept the button's room (it grew by 110-176 px for that frame);
   when it ends, Ask comes a frame before Stop leaves, and Stop is not shown beside it (the box
   shrank by 176 px). Not where the button wraps under the box (phones). */
@media (min-width: 420px) {
  #question:only-child { max-width: calc(100% - min(160px, 100%) - var(--layout-gap)); }
}
#ask ~ #stop { display: none !important; }
#index-status { font-size: .92em; }
#debug { font-size: .88em; }
#debug table { table-layout: auto; width: 100%; }
#debug td:nth-child(n+5), #debug th:nth-child(n+5) { white-space: nowrap; text-align: right; }
#debug pre, #debug code { white-space: pre-wrap; word-break: break-word; }
"""


# Enter while an answer runs starts nothing (see the wiring), and said nothing either (found by
# stop 45's exploratory browser test). The note is made in the browser, at once: the server is
# busy with the answer being waited for. Stop is on the page only while an answer runs.
BUSY_NOTE_JS = f"""() => document.querySelector('#stop')?.offsetParent ? {json.dumps(BUSY_NOTE)} : ''"""


def build_app(assistant: Assistant, settings: Settings, *, feedback_path: Path | None = None) -> Any:
    import gradio as gr

    feedback_path = feedback_path or Path(os.environ.get("RAG_FEEDBACK_FILE", "docs/feedback.jsonl"))
    h = Handlers(assistant, settings, feedback_path)
    backends = llm_choices(settings)

    # Gradio injects LikeData and Progress by the handler's signature, hence these shims.
    def on_like(data: gr.LikeData, turns: list) -> None:
        h.like(data, turns)

    def on_upload(files: list | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008 (Gradio idiom)
        return h.upload(files, progress)

    # The session names the answer a Stop click is for: each page load has its own.
    def on_respond(message: str, history: list, turns: list, top_k: float, backend: str | None,
                   request: gr.Request) -> Any:
        yield from h.respond(message, history, turns, top_k, backend, session=request.session_hash or "")

    def on_stop(request: gr.Request) -> Any:
        h.stop(request.session_hash or "")
        # Seen at the model's next token; while llama.cpp reads the prompt (~5 s) it cannot be.
        return gr.update(value="Stopping…", interactive=False)

    def idle() -> tuple:
        return gr.update(visible=True), gr.update(visible=False, value="Stop", interactive=True), ""

    def on_export(turns: list) -> tuple:
        path, text = h.export(turns)
        return gr.update(value=path, visible=path is not None), gr.update(value=text, visible=True)

    def on_example(data: gr.SelectData) -> str:
        return data.value["text"] if isinstance(data.value, dict) else str(data.value)

    with gr.Blocks(title="PM Learning Assistant", analytics_enabled=False) as demo:
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=7):
                gr.Markdown("# PM Learning Assistant\nAnswers from your product-management articles,"
                            " each sentence cited to the passage it comes from.", elem_id="title")
                chatbot = gr.Chatbot(
                    elem_id="chat", height=600, sanitize_html=True, show_label=False,
                    buttons=["copy", "copy_all"], feedback_options=("Like", "Dislike"),
                    placeholder="**Ask about the articles.** Answers cite their sources; questions the"
                                " articles don't cover are declined, with the nearest passages shown.",
                    examples=[{"text": q} for q in EXAMPLES])
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                     scale=8, elem_id="question", autofocus=True, container=False)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    stop = gr.Button("Stop", variant="stop", scale=1, elem_id="stop", visible=False)
                busy_note = gr.Markdown("", elem_id="busy-note")
                with gr.Accordion("Settings and debug", open=False, elem_id="settings"):
                    with gr.Row():
                        top_k = gr.Slider(1, 8, value=settings.top_k, step=1, label="Passages per answer")
                        backend = gr.Dropdown(backends, value=settings.llm, label="LLM backend",
                                              visible=len(backends) > 1, interactive=True)
                    debug = gr.Markdown("Ask a question to see the retrieved passages, their scores,"
                                        " the rewritten question and timings.", elem_id="debug")
            with gr.Column(scale=3, min_width=280):
                gr.Markdown("### Index")
                status = gr.Markdown(h.status(), elem_id="index-status")
                with gr.Accordion("Add articles", open=True, elem_id="add-articles"):
                    # Said above the box, not as its label: a label that wraps covers "Drop File Here".
                    gr.Markdown(f".md .txt .html .pdf, up to {settings.max_file_mb:g} MB each",
                                elem_id="upload-types")
                    upload = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, height=120,
                                     label="Articles", elem_id="upload")
                    add_btn = gr.Button("Add to index", elem_id="add", variant="secondary")
                    upload_status = gr.Markdown(elem_id="upload-status")
                with gr.Accordion("Keep the conversation", open=False, elem_id="keep"):
                    gr.Markdown("The thumbs under an answer log your feedback with the question, answer and"
                                " citations to a JSON-lines file.")
                    export_btn = gr.Button("Export chat as Markdown", size="sm", elem_id="export")
                    # Hidden until there is something in them: empty boxes read as broken.
                    export_file = gr.File(label="Download", interactive=False, visible=False)
                    export_text = gr.Code(language="markdown", label="Copy", buttons=["copy"], elem_id="export-md",
                                          lines=6, max_lines=14, wrap_lines=True, visible=False)

        chat_in = [box, chatbot, turns, top_k, backend]
        chat_out = [chatbot, turns, debug, box, send, stop]
        chat_opts = dict(concurrency_limit=CHAT_CONCURRENCY, concurrency_id="chat", show_progress="minimal")
        # No progress overlay: the default one covered the busy note and the accordion under it
        # (80 px) for the instant it takes to put Ask back.
        idle_opts = dict(show_progress="hidden", api_visibility="private")
        # One listener for the button and Enter, so that while an answer streams neither starts
        # another ("once"): a second answer would start from the chat as it was when asked, and
        # overwrite the first answer with its draft. What the reader types meanwhile stays in
        # the box (respond leaves it alone after taking the question). Stop replaces Ask while
        # an answer runs; `.then` puts Ask back however the answer ended, errors included.
        gr.on([send.click, box.submit], on_respond, chat_in, chat_out, **chat_opts, trigger_mode="once",
              api_name="chat").then(idle, None, [send, stop, busy_note], **idle_opts)
        box.submit(None, None, busy_note, js=BUSY_NOTE_JS, trigger_mode="multiple", api_visibility="private")
        chatbot.example_select(on_example, None, box, api_visibility="private").then(
            on_respond, chat_in, chat_out, **chat_opts, api_visibility="private").then(
            idle, None, [send, stop, busy_note], **idle_opts)
        # Not queued behind the answers it stops.
        stop.click(on_stop, None, stop, concurrency_limit=None, api_visibility="private")
        chatbot.clear(lambda: [], None, turns, api_visibility="private")
        chatbot.like(on_like, [turns], None, api_visibility="private")
        add_btn.click(on_upload, [upload], [upload_status, status, upload], concurrency_limit=1,
                      api_visibility="private")
        # A new choice of files clears the last message ("Choose one or more … files first." stayed
        # under the files just chosen). Not `.change`: adding clears the files, and that would
        # wipe the report of what was added.
        upload.upload(lambda: "", None, upload_status, api_visibility="private")
        export_btn.click(on_export, [turns], [export_file, export_text], api_visibility="private")
        # The index may have been rebuilt from the command line since the page was built.
        demo.load(h.status, None, status, api_visibility="private")
    return demo


def launch_options(settings: Settings, *, share: bool = False, block: bool = True) -> dict[str, Any]:
    import gradio as gr

    user, password = os.environ.get("RAG_AUTH_USER"), os.environ.get("RAG_AUTH_PASSWORD")
    return dict(server_name=settings.host, server_port=settings.port, share=share,
                auth=(user, password) if user and password else None,
                prevent_thread_lock=not block, show_error=True, max_threads=MAX_THREADS,
                theme=_theme(gr), css=CSS, footer_links=["api"],
                max_file_size=f"{int(settings.max_file_mb)}mb", enable_monitoring=False)


def _theme(gr: Any) -> Any:
    # System fonts only: the stock themes fetch Google Fonts, and the page must not call out.
    return gr.themes.Soft(primary_hue="indigo", font=["ui-sans-serif", "system-ui", "sans-serif"],
                          font_mono=["ui-monospace", "Consolas", "monospace"])


def serve(settings: Settings, *, share: bool = False, block: bool = True,
          assistant: Assistant | None = None, feedback_path: Path | None = None) -> Any:
    """Load the assistant and launch the page; returns the Blocks when `block=False`."""
    # Set before gradio is imported: nothing leaves the machine unless --share is given.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    assistant = assistant or Assistant.load(settings)
    _warm_up(assistant)
    demo = build_app(assistant, settings, feedback_path=feedback_path)
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=256)
    demo.launch(**launch_options(settings, share=share, block=block))
    return demo


def _warm_up(assistant: Assistant) -> None:
    """Build the chat model now so the index panel names it and a bad LLM setup is logged at
    start; the page still serves retrieval and refusals if it fails."""
    try:
        assistant.chat_model  # noqa: B018 (property with side effect)
    except Exception as exc:  # any backend error; the first question will show it too
        log.warning("LLM not available yet: %s", exc)
