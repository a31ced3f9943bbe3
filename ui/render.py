"""Turn `Answer`s into the page's HTML/Markdown: answer with sources, debug view, export.

Pure functions over the library's dataclasses, so they are tested without a browser. The
Gradio wiring is left to `ui.app`.
"""

from __future__ import annotations

import html
import json
from typing import Any

from rag.answer import Answer, Citation


def highlighted_passage(c: Citation) -> str:
    """The passage with its best supporting sentence marked."""
    text = c.text
    qs, qe = c.quote_start - c.start, c.quote_end - c.start
    if c.quote and 0 <= qs < qe <= len(text) and (qs, qe) != (0, len(text)):
        return (html.escape(text[:qs]) + "<mark>" + html.escape(text[qs:qe]) + "</mark>"
                + html.escape(text[qe:]))
    return html.escape(text)


def source_html(c: Citation, label: str) -> str:
    where = html.escape(c.title) + (f" › {html.escape(c.heading)}" if c.heading else "")
    page = f", page {c.page}" if c.page else ""
    return (
        f'<div class="pm-source"><div class="pm-source-head"><b>{label}</b> {where}'
        f' <span class="pm-score">({html.escape(c.doc_id)}{page}, score {c.score:.2f})</span></div>'
        f'<blockquote>{highlighted_passage(c)}</blockquote></div>'
    )


def answer_html(answer: Answer) -> str:
    """The assistant's chat message: the answer, unsupported sentences flagged, then sources."""
    if answer.refused:
        head = f"<p>{html.escape(answer.text)}</p>"
        items = "".join(source_html(c, f"Nearest {c.n}") for c in answer.nearest)
        return head + (f'<div class="pm-sources"><b>Nearest passages</b>{items}</div>' if items else "")
    parts = []
    for s in answer.sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        body = html.escape(s.text) + (f" {marks}" if marks else "")
        if not s.supported:
            body = f'<span class="pm-unsupported" title="No article passage supports this sentence">{body} ⚠ unsupported</span>'
        parts.append(body)
    items = "".join(source_html(c, f"[{c.n}]") for c in answer.citations)
    return f"<p>{' '.join(parts)}</p><div class=\"pm-sources\"><b>Sources</b>{items}</div>"


def debug_markdown(answer: Answer, hits: list[Any] | None = None) -> str:
    t = answer.timings
    lines = [
        f"**Question used for retrieval:** {answer.standalone_question or answer.question}",
        f"**Timings:** retrieve {t.retrieve_ms:.0f} ms · first token {t.first_token_ms:.0f} ms ·"
        f" total {t.total_ms:.0f} ms · LLM called: {answer.llm_called}",
    ]
    if hits:
        lines.append("\n| # | article | heading | fused | cosine | bm25 |\n|---|---|---|---|---|---|")
        for h in hits:
            lines.append(f"| {h.rank} | {h.doc_id} | {h.chunk.heading or '—'} | {h.score:.4f} |"
                         f" {h.dense:.3f} | {h.bm25:.2f} |")
    if answer.raw_answer:
        lines.append(f"\n**Raw model output:**\n\n```\n{answer.raw_answer}\n```")
    return "\n".join(lines)


def export_markdown(turns: list[Answer]) -> str:
    """The whole conversation as Markdown, each answer with its quoted sources."""
    out = ["# PM Learning Assistant — conversation", ""]
    for a in turns:
        out += [f"## Q: {a.question}", "", a.text, ""]
        cites = a.nearest if a.refused else a.citations
        if cites:
            out.append("Nearest passages:" if a.refused else "Sources:")
            for c in cites:
                where = c.title + (f" › {c.heading}" if c.heading else "")
                out.append(f"- [{c.n}] {where} (`{c.doc_id}`, chars {c.start}–{c.end})")
                out.append(f"  > {c.quote or c.text}")
            out.append("")
    return "\n".join(out)


def feedback_record(answer: Answer, liked: bool) -> str:
    return json.dumps({"question": answer.question, "answer": answer.text, "liked": liked,
                       "refused": answer.refused,
                       "citations": [{"n": c.n, "doc_id": c.doc_id, "start": c.start, "end": c.end}
                                     for c in answer.citations]}, ensure_ascii=False)
