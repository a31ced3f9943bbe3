"""Split an article's text into heading-aware chunks that fit the embedder's window.

Pure functions, no I/O: the caller passes the token counter of the embedder in use. Each
`Chunk` keeps character offsets into the article text, so `article.text[start:end]` is the
chunk text exactly and a citation can quote it. Embedding, storage and retrieval are left
to other modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    ordinal: int
    start: int
    end: int
    heading: str  # heading path, e.g. "Top Discussions > Question 1"; "" before any heading
    text: str

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"


@dataclass(frozen=True)
class Section:
    start: int
    end: int
    heading: str


def sections(text: str) -> list[Section]:
    """Sections between Markdown headings, each with its heading path (body only)."""
    marks = list(_HEADING.finditer(text))
    out: list[Section] = []
    path: list[tuple[int, str]] = []
    prev_end, prev_heading = 0, ""
    for m in marks:
        if text[prev_end : m.start()].strip():
            out.append(Section(prev_end, m.start(), prev_heading))
        level, title = len(m.group(1)), m.group(2).strip()
        path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
        prev_end, prev_heading = m.end(), " > ".join(t for _, t in path)
    if text[prev_end:].strip():
        out.append(Section(prev_end, len(text), prev_heading))
    return out


def chunk_text(
    doc_id: str,
    text: str,
    count_tokens: Callable[[str], int],
    *,
    chunk_tokens: int = 128,
    overlap_tokens: int = 24,
) -> list[Chunk]:
    """Chunks of at most `chunk_tokens` tokens (by `count_tokens`), never crossing a heading."""
    if chunk_tokens < 8:
        raise ValueError("chunk_tokens must be at least 8")
    if not 0 <= overlap_tokens < chunk_tokens:
        raise ValueError("overlap_tokens must be >= 0 and smaller than chunk_tokens")
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        length_function=count_tokens,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
        strip_whitespace=False,
    )
    chunks: list[Chunk] = []
    for sec in sections(text):
        body = text[sec.start : sec.end]
        cursor = 0
        for piece in splitter.split_text(body):
            # The splitter returns substrings; find each one at or after the previous start so
            # offsets stay exact even when a passage repeats.
            found = body.find(piece, cursor)
            if found < 0:
                found = body.find(piece)
            if found < 0:  # cannot happen for substrings; skip rather than cite wrongly
                continue
            cursor = found + 1
            start, end = sec.start + found, sec.start + found + len(piece)
            # Trim whitespace while keeping the offsets exact.
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end - start < 2:
                continue
            chunks.append(Chunk(doc_id, len(chunks), start, end, sec.heading, text[start:end]))
    return chunks


def embedding_text(title: str, chunk: Chunk) -> str:
    """What the embedder and BM25 see: title and heading give a chunk its context."""
    context = title if not chunk.heading else f"{title} — {chunk.heading}"
    return f"{context}\n{chunk.text}"
