"""The page's event handlers: each turns one action on the page into calls on `rag`.

Kept apart from the layout in `ui.app` so both stay small. Per-session state is a list of
`Answer | None`, one entry per chat turn (None for a turn that failed), so the n-th
assistant message always maps to the n-th entry for feedback and export. Gradio is imported
inside the methods that need it, so importing this module does no work.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.answer import Answer, Reading, Rereading
from rag.assistant import Assistant
from rag.config import Settings
from rag.corpus_files import add_files
from rag.errors import RagError
from rag.indexing import update_index
from rag.models import bundled_model_path
from ui.render import (
    WRITING,
    answer_html,
    debug_markdown,
    error_html,
    export_markdown,
    feedback_record,
    pending_html,
    reading_note,
    rereading_note,
    status_markdown,
    upload_markdown,
)

log = logging.getLogger(__name__)

Turn = Answer | None


def llm_choices(settings: Settings) -> list[str]:
    """Backends usable right now: the configured one, the bundled model if it is on disk,
    and an OpenAI-compatible server when one is configured next to a local model."""
    choices = [settings.llm]
    if settings.llm != "local" and bundled_model_path(settings.models_dir).exists():
        choices.append("local")
    if settings.llm in ("local", "gguf") and settings.llm_model and settings.llm_base_url:
        choices.append("openai")
    return choices


class Handlers:
    def __init__(self, assistant: Assistant, settings: Settings, feedback_path: Path):
        self.settings = settings
        self.feedback_path = feedback_path
        self._assistants = {settings.llm: assistant}
        self._lock = threading.Lock()
        self._feedback_lock = threading.Lock()
        self._stops: dict[str, threading.Event] = {}  # the answer running in each page session

    @property
    def assistant(self) -> Assistant:
        return self._assistants[self.settings.llm]

    def assistant_for(self, backend: str | None) -> Assistant:
        """One Assistant per backend, sharing the embedder; made on first use."""
        backend = backend or self.settings.llm
        with self._lock:
            if backend not in self._assistants:
                settings = self.settings.model_copy(update={"llm": backend})
                self._assistants[backend] = Assistant(settings, self.assistant.embedder,
                                                      self.assistant.store)
            return self._assistants[backend]

    def status(self) -> str:
        return status_markdown(self.assistant.index.manifest, self.assistant.llm_name)

    # --- chat -------------------------------------------------------------------------
    def respond(self, message: str, history: list[dict], turns: list[Turn], top_k: float,
                backend: str | None, session: str = "") -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; outputs (chatbot, turns, debug, textbox, ask
        button, stop button). While it runs, Stop takes the Ask button's place; `stop(session)`
        ends the wait (`Assistant.stream`), and the layout puts Ask back when it is over."""
        import gradio as gr

        keep = gr.skip()
        if not message or not message.strip():
            # A toast, not gr.Error: an error marks every output, and the chat would vanish
            # under a red badge until the reader found its close button.
            gr.Warning("Type a question about the articles first.")
            yield keep, keep, keep, keep, keep, keep
            return
        base = [*(history or []), {"role": "user", "content": message}]

        def chat(content: str) -> list[dict]:
            # A fresh list per update: Gradio may still be diffing the previous one.
            return [*base, {"role": "assistant", "content": content}]

        stop = threading.Event()
        with self._lock:
            self._stops[session] = stop
        # The box is emptied once, as the question is taken; later updates leave it alone, so
        # a reader can type the next question during the 15-40 s an answer takes.
        yield (chat(pending_html()), turns, keep, "", gr.update(visible=False),
               gr.update(visible=True, value="Stop", interactive=True))
        assistant = self.assistant_for(backend)
        prior = [(t.question, t.text) for t in turns if t is not None]
        answer, streamed = None, ""
        try:
            for event in assistant.stream(message, history=prior, k=int(top_k), progress=True, stop=stop):
                if isinstance(event, Answer):
                    answer = event
                    continue
                if isinstance(event, Reading):
                    note = pending_html(reading_note(event, message))
                    yield chat(note), turns, keep, keep, keep, keep
                    continue
                if isinstance(event, Rereading):
                    drafted = bool(streamed.strip())
                    note = pending_html(rereading_note(event, draft=drafted))
                    yield chat(f"{streamed}\n\n{note}" if drafted else note), turns, keep, keep, keep, keep
                    continue
                streamed += event
                yield chat(streamed + WRITING), turns, keep, keep, keep, keep
            hits = assistant.search(answer.standalone_question or message, int(top_k))
        except RagError as exc:
            yield chat(error_html(str(exc))), [*turns, None], keep, keep, keep, keep
            return
        finally:
            with self._lock:
                if self._stops.get(session) is stop:
                    del self._stops[session]
        yield chat(answer_html(answer)), [*turns, answer], debug_markdown(answer, hits), keep, keep, keep

    def stop(self, session: str = "") -> bool:
        """Stop the answer running in `session`; False when none is."""
        with self._lock:
            stop = self._stops.get(session)
        if stop is None:
            return False
        stop.set()
        return True

    def like(self, data: Any, turns: list[Turn]) -> None:
        """Append 👍/👎 with the question, answer and citations to the JSON-lines file."""
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        turn = int(index) // 2  # messages alternate user, assistant
        if not 0 <= turn < len(turns) or turns[turn] is None:
            return
        liked = data.liked is True or data.liked == "Like"
        self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
        with self._feedback_lock, self.feedback_path.open("a", encoding="utf-8") as fh:
            fh.write(feedback_record(turns[turn], liked) + "\n")

    def export(self, turns: list[Turn]) -> tuple[str | None, str]:
        """The conversation as a Markdown file to download and as text to copy."""
        text = export_markdown([t for t in turns if t is not None])
        if not any(turns):
            return None, text
        path = Path(tempfile.mkdtemp(prefix="pmrag-")) / f"chat-{time.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(text, encoding="utf-8")
        return str(path), text

    # --- adding articles --------------------------------------------------------------
    def upload(self, files: list[Any] | None, progress: Any = None) -> tuple[str, str, Any]:
        """Save uploads into the corpus and update the index; outputs (report, status, files)."""
        if not files:
            return "Choose one or more .md, .txt, .html or .pdf files first.", self.status(), None
        paths = [Path(f if isinstance(f, str) else f.name) for f in files]
        # Gradio keeps the uploader's file name as the last path part; add_files sanitises it.
        names = [p.name for p in paths]
        before = {p.name for p in self.settings.corpus_dir.glob("*")}
        copied, failed = add_files(paths, self.settings.corpus_dir, original_names=names,
                                   max_mb=self.settings.max_file_mb)
        saved = dict(zip([n for n in names if n not in {f.path for f in failed}], copied, strict=False))
        report = None
        if copied:
            try:
                report = update_index(self.settings, self.assistant.embedder, store=self.assistant.store,
                                      progress=_stage_progress(progress), wait_for_lock=True)
            except RagError as exc:
                return error_html(str(exc)), self.status(), None
            failed += self._drop_unreadable(report, saved, before)
        return upload_markdown(saved, report, failed), self.status(), None

    def _drop_unreadable(self, report: Any, saved: dict[str, str], before: set[str]) -> list[Any]:
        """Failures among this upload's files; new ones are removed from the corpus again so a
        bad upload does not linger there (files that were already present are left alone)."""
        by_target = {target: original for original, target in saved.items()}
        mine = [f for f in report.failed if Path(f.path).name in by_target]
        for f in mine:
            name = Path(f.path).name
            if name not in before:
                (self.settings.corpus_dir / name).unlink(missing_ok=True)
            saved.pop(by_target[name], None)
        return [type(f)(by_target[Path(f.path).name], f.reason) for f in mine]


def _stage_progress(progress: Any):
    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress((done, max(total, 1)), desc=f"{stage}…")
    return report
