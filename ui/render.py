"""Turn `Answer`s into the page's HTML/Markdown: answer with sources, debug view, export.

Pure functions over the library's dataclasses, so they are tested without a browser. The
Gradio wiring is left to `ui.app`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.answer import Answer, Citation, Reading, Rereading


def _inline(text: str) -> str:
    # Chat messages are Markdown with raw HTML blocks; a blank line inside a passage would
    # end the HTML block and let Markdown reinterpret the rest, so passages are one line.
    return html.escape(re.sub(r"\s+", " ", text))


def highlighted_passage(c: Citation) -> str:
    """The passage with its best supporting sentence marked."""
    text = c.text
    qs, qe = c.quote_start - c.start, c.quote_end - c.start
    if c.quote and 0 <= qs < qe <= len(text) and (qs, qe) != (0, len(text)):
        return (_inline(text[:qs]) + "<mark>" + _inline(text[qs:qe]) + "</mark>"
                + _inline(text[qe:])).strip()
    return _inline(text).strip()


def source_html(c: Citation, label: str) -> str:
    where = (f"<b>{_inline(c.title)}</b>" + (f", {_inline(c.byline)}" if c.byline else "")
             + (f" › {_inline(c.heading)}" if c.heading else ""))
    page = f", page {c.page}" if c.page else ""
    return (
        f'<div class="pm-source"><div class="pm-source-head"><span class="pm-label">{label}</span> {where}'
        # The file name tells a reader where to open the article; the retrieval score is for
        # whoever tunes the assistant, so it is a tooltip, not text a PM has to decode.
        f' <span class="pm-score" title="Closeness to your question: {c.score:.2f}">'
        f'{html.escape(c.doc_id)}{page}</span></div>'
        f'<blockquote>{highlighted_passage(c)}</blockquote></div>'
    )


def _sources_panel(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return (f'<details class="pm-sources" open><summary>{title} ({len(items)})</summary>'
            f'{"".join(items)}</details>')


def answer_html(answer: Answer) -> str:
    """The assistant's chat message: a follow-up as understood, the answer, unsupported
    sentences flagged, then sources."""
    asked = answer.standalone_question
    understood = ""
    if _reworded(asked, answer.question):
        # Kept above the answer: the reading note that said it is gone once the text streams,
        # and a follow-up understood wrong is the one thing the reader can fix (ask again).
        understood = f'<p class="pm-asked">Understood as: {_inline(asked)}</p>'
    understood += _stopped_note(answer)
    if answer.refused:
        head = f'<p class="pm-refusal">{_inline(answer.text)}</p>'
        items = [source_html(c, f"#{c.n}") for c in answer.nearest]
        return understood + head + _sources_panel("Nearest passages", items)
    parts = []
    for s in answer.sentences:
        marks = "".join(f'<sup class="pm-cite">[{n}]</sup>' for n in s.citations)
        body = _inline(s.text) + marks
        if not s.supported:
            body = (f'<span class="pm-unsupported" title="No article passage supports this'
                    f' sentence">{body} ⚠ unsupported</span>')
        elif s.key_quote:
            # Added after the model's sentences, so a reader should see it is not the model's.
            body = (f'<span class="pm-key-quote" title="The article\'s own sentence nearest your'
                    f' question">{body}</span>')
        parts.append(body)
    items = [source_html(c, f"[{c.n}]") for c in answer.citations]
    return understood + f"<p>{' '.join(parts)}</p>" + _sources_panel("Sources", items)


def _stopped_note(answer: Answer) -> str:
    note = stopped_note(answer)
    return f'<p class="pm-asked pm-stopped">{note}</p>' if note else ""


def stopped_note(answer: Answer) -> str:
    """What a stopped answer is, or ""."""
    if answer.stopped_at == 2:
        return "You stopped the second reading: this is the first reading's answer, checked against its passages."
    if answer.stopped_at == 1 and not answer.refused:
        return "You stopped the answer: it ends with the last sentence finished by then, checked against its passages."
    return ""  # a stopped refusal says so itself (rag.compose.STOPPED_TEXT)


# Put after the text as it streams: says the answer is still being written, and (ui.app's
# CSS) hides the thumbs under it, which would otherwise rate a draft.
WRITING = ' <span class="pm-writing" title="Still writing">…</span>'


def pending_html(note: str = "Searching the articles…") -> str:
    return f'<p class="pm-pending">{html.escape(note)}</p>'


def reading_note(reading: Reading, asked: str) -> str:
    """What the page says while the LLM reads: which articles, and a follow-up as understood."""
    titles = [f"“{t}”" for t in reading.titles]
    where = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    note = f"Reading {_passages(reading.passages)} from {where}…"
    if _reworded(reading.question, asked):
        note = f"Understood as: {reading.question} — {note}"
    return note


def rereading_note(rereading: Rereading, *, draft: bool = True) -> str:
    """What the page says while the LLM reads the passages again. Under a streamed first
    answer (`draft`): the text shown is a draft, and the checked answer replaces it. With
    nothing shown (the first reading said NOT COVERED, or `pmrag ask`, which prints only the
    checked answer) there is no draft to speak of."""
    again = f"the {_passages(rereading.passages)} again in another order"
    if draft:
        return f"Checking this draft: reading {again}; the checked answer with its sources replaces it…"
    return f"Reading {again} to check the answer…"


def _passages(n: int) -> str:
    return f"{n} passage{'s' if n != 1 else ''}"


def _reworded(standalone: str, typed: str) -> bool:
    """Was the question asked of the articles worded otherwise than the reader typed it?"""
    return bool(standalone) and " ".join(standalone.split()).lower() != " ".join(typed.split()).lower()


def error_html(message: str) -> str:
    return f'<p class="pm-error">⚠ {_inline(message)}</p>'


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()


def debug_markdown(answer: Answer, hits: list[Any] | None = None) -> str:
    t = answer.timings
    first = f"{t.first_token_ms:.0f} ms" if answer.llm_called else "— (LLM not called)"
    lines = [
        f"**Question:** {_cell(answer.question)}  ",
        f"**Rewritten for retrieval:** {_cell(answer.standalone_question or answer.question)}  ",
    ]
    if answer.rewrite_note and answer.rewrite_proposed:
        lines.append(f"**The model's rewrite, not used:** {_cell(answer.rewrite_proposed)} "
                     f"({_cell(answer.rewrite_note)})  ")
    elif answer.rewrite_note:
        lines.append(f"**How it was asked:** {_cell(answer.rewrite_note)}  ")
    rewrite = f"rewrite {t.rewrite_ms:.0f} ms · " if t.rewrite_ms >= 1 else ""
    lines.append(f"**Timings:** {rewrite}retrieve {t.retrieve_ms:.0f} ms · first token {first} · total"
                 f" {t.total_ms:.0f} ms")
    if answer.readings > 1:
        lines.append(f"**Readings:** the passages were read {answer.readings} times, in retrieval order and ordered"
                     f" by likeness to the question; the answer shown is reading {answer.reading}, the better"
                     " supported  ")
    if hits:
        lines.append("\n| # | article | heading | passage | fused | cosine | bm25 |\n"
                     "|---|---|---|---|---|---|---|")
        for h in hits:
            snippet = _cell(h.chunk.text)[:70] + "…"
            heading = _cell(h.chunk.heading).split(" > ")[-1] or "—"  # the innermost section
            lines.append(f"| {h.rank} | {_cell(h.doc_id)} | {heading} | {snippet} |"
                         f" {h.score:.3f} | {h.dense:.2f} | {h.bm25:.1f} |")
    if answer.raw_answer:
        lines.append(f"\n**Raw model output:**\n\n```\n{answer.raw_answer}\n```")
    return "\n".join(lines)


def export_markdown(turns: list[Answer]) -> str:
    """The whole conversation as Markdown, each answer with its quoted sources."""
    out = ["# PM Learning Assistant — conversation", ""]
    for a in turns:
        out += [f"## Q: {a.question}", ""]
        # What the page says around the answer goes with it: a reader of the file must see
        # a follow-up as it was understood, a stopped answer, and an unsupported sentence.
        notes = [f"Understood as: {a.standalone_question}"] if _reworded(a.standalone_question, a.question) else []
        if stopped := stopped_note(a):
            notes.append(stopped)
        out += [f"*{_cell(n)}*" for n in notes] + ([""] if notes else [])
        out += [_answer_markdown(a), ""]
        cites = a.nearest if a.refused else a.citations
        if cites:
            out.append("Nearest passages:" if a.refused else "Sources:")
            for c in cites:
                where = c.title + (f" › {c.heading}" if c.heading else "")
                out.append(f"- [{c.n}] {where} (`{c.doc_id}`, chars {c.start}–{c.end})")
                out.append(f"  > {_cell(c.quote or c.text)}")
            out.append("")
    return "\n".join(out)


def _answer_markdown(answer: Answer) -> str:
    """The answer's text, each sentence the articles do not support flagged as on the page."""
    if answer.refused or not answer.sentences:
        return answer.text
    parts = []
    for s in answer.sentences:
        marks = "".join(f" [{n}]" for n in s.citations)
        parts.append(s.text + marks + ("" if s.supported else " **⚠ unsupported**"))
    return " ".join(parts)


def feedback_record(answer: Answer, liked: bool) -> str:
    """One JSON line: enough to judge the answer later without the index at hand."""
    cites = answer.nearest if answer.refused else answer.citations
    return json.dumps({"question": answer.question, "answer": answer.text, "liked": liked,
                       "refused": answer.refused,
                       "citations": [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "heading": c.heading,
                                      "start": c.start, "end": c.end, "quote": c.quote or c.text}
                                     for c in cites]}, ensure_ascii=False)


def status_markdown(manifest: dict[str, Any], llm: str) -> str:
    """Index facts: what the answers are drawn from and by which models, and a folded list of
    the articles' titles (the chat refuses "What articles are in the collection?": no passage
    says so)."""
    built = str(manifest.get("built_at", "?")).replace("T", " ").replace("Z", " UTC")
    docs = manifest.get("documents", {})
    titles = sorted((str(d.get("title") or name) for name, d in docs.items()), key=str.lower)
    listing = "".join(f"<li>{html.escape(t)}</li>" for t in titles)
    return (f"**{len(docs)} articles** · {manifest.get('chunks', 0)} chunks  \n"
            f"Embeddings: `{manifest.get('embed_model', '?')}`  \nLLM: `{llm}`  \n"
            f"Index built {built}\n\n"
            f'<details class="pm-articles"><summary>Articles</summary><ul>{listing}</ul></details>')


def upload_markdown(saved: dict[str, str], report: Any, failed: Sequence[Any]) -> str:
    """What an upload did: files saved (and renamed, if a name was taken), index changes,
    and each failure by file name with its reason."""
    names = [o if o == t else f"{o} → saved as {t}" for o, t in saved.items()]
    lines = [f"✓ Added **{', '.join(names)}**." if names else "No article was added."]
    if report is not None:
        lines.append(f"Index updated: {len(report.added)} added, {len(report.changed)} changed,"
                     f" {len(report.removed)} removed in {report.seconds:.1f} s.")
    lines += [f"- ⚠ **{_cell(Path(f.path).name)}**: {_cell(f.reason)}" for f in failed]
    return "\n\n".join(lines[:2] + ["\n".join(lines[2:])])
