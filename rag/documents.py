"""Read one article file into an `Article`: its text as indexed, title, metadata and pages.

Handles .md/.txt (front matter, UTF-8 with a cp1252 fallback), .html (main text only:
scripts, styles, comments and hidden elements dropped) and .pdf (pypdf, page offsets).
Every unreadable file raises `DocumentError` whose message names the reason. Chunking,
scanning the corpus folder and deciding what to re-index are left to other modules.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rag.errors import DocumentError

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass(frozen=True)
class Article:
    """An article as indexed. `text` is what citations' offsets point into."""

    doc_id: str  # file name relative to the corpus folder, e.g. "ml-pm-guide.md"
    title: str
    text: str
    content_hash: str  # sha256 of the file's bytes
    metadata: dict[str, str] = field(default_factory=dict)
    # (offset into text, page number) for PDFs, so a citation can name its page.
    page_starts: tuple[tuple[int, int], ...] = ()

    @property
    def author(self) -> str:
        """The author(s) as the metadata names them ("Yael Gavish"); "" when not given."""
        return self.metadata.get("author", "").strip()

    @property
    def byline(self) -> str:
        """Who wrote the article, where and when, from its metadata ("by Yael Gavish,
        published on 25 July 2017"); "" when the metadata says nothing. The article text has no
        byline (front matter is metadata), so without this the LLM cannot answer "who wrote
        ...?" and guesses names from the text."""
        author = self.author
        place = self.metadata.get("publication", "").strip()
        raw_date = self.metadata.get("date", "").strip()
        date = _human_date(raw_date)
        when = f"{'on' if date != raw_date else 'in'} {date}" if date else ""  # "in May 2021"
        published = " ".join(x for x in ("published", f"in {place}" if place else "", when) if x)
        parts = [f"by {author}" if author else "", published if place or date else ""]
        return ", ".join(x for x in parts if x)

    def page_at(self, offset: int) -> int | None:
        page = None
        for start, number in self.page_starts:
            if start > offset:
                break
            page = number
        return page


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _human_date(value: str) -> str:
    """ "2017-07-25" as "25 July 2017", the way a reader (and the LLM) says it; any other
    form is kept as written."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", value):
        return value
    try:
        day = datetime.date.fromisoformat(value[:10])
    except ValueError:  # "2024-02-30"
        return value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_article(path: Path, doc_id: str, *, max_mb: float = 20.0, max_pages: int = 500) -> Article:
    """Load `path` (already known to be inside the corpus) as an Article or raise DocumentError."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror}") from exc
    if size == 0:
        raise DocumentError("empty file")
    if size > max_mb * 1024 * 1024:
        raise DocumentError(
            f"file is {size / 1048576:.1f} MB, over the {max_mb:g} MB limit (raise RAG_MAX_FILE_MB)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror}") from exc
    digest = content_hash(data)
    if suffix == ".pdf":
        text, title, pages, meta = _read_pdf(data, max_pages)
    elif suffix in (".html", ".htm"):
        text, title, meta = read_html(_decode(data))
        pages = ()
    else:
        text, meta = _split_front_matter(_decode(data))
        title = meta.pop("title", "") or ""
        pages = ()
    if not text.strip():
        raise DocumentError("no text found in the file")
    title = title.strip() or _first_heading(text) or path.stem.replace("-", " ").replace("_", " ")
    return Article(doc_id, title, text, digest, meta, pages)


def _decode(data: bytes) -> str:
    """UTF-8, else cp1252 (old Windows exports); binary data is refused, not guessed at."""
    head = data[:8192]
    if b"\x00" in head or _control_ratio(head) > 0.1:
        raise DocumentError("binary data, not text (is the file extension wrong?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.info("not UTF-8, decoding as cp1252")
        return data.decode("cp1252", errors="replace")


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    bad = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return bad / len(data)


def _split_front_matter(raw: str) -> tuple[str, dict[str, str]]:
    raw = raw.replace("\r\n", "\n")
    match = _FRONT_MATTER.match(raw)
    if not match:
        return raw.strip("\n"), {}
    try:
        # BaseLoader keeps every value as written: safe_load turns "date: 2024-02-30" into a
        # datetime.date and raises ValueError, which failed the whole `pmrag index` run.
        parsed = yaml.load(match.group(1), Loader=yaml.BaseLoader) or {}
    except (yaml.YAMLError, ValueError):
        parsed = {}
    meta = {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
    return raw[match.end() :].strip("\n"), meta


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped.lstrip("#").strip()[:120]
    return ""


def _read_pdf(data: bytes, max_pages: int) -> tuple[str, str, tuple[tuple[int, int], ...], dict[str, str]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF; save an unprotected copy and add that")
        n_pages = len(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises many kinds on damaged input
        if "crypt" in str(exc).lower() or "password" in str(exc).lower():
            raise DocumentError("encrypted PDF; save an unprotected copy and add that") from exc
        raise DocumentError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if n_pages > max_pages:
        raise DocumentError(
            f"PDF has {n_pages} pages, over the {max_pages} page limit (raise RAG_MAX_PDF_PAGES)"
        )
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    offset = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            page_text = (page.extract_text() or "").strip()
        except Exception as exc:  # one bad page should not lose the document
            log.warning("page %d unreadable: %s", number, exc)
            page_text = ""
        if not page_text:
            continue
        starts.append((offset, number))
        parts.append(page_text)
        offset += len(page_text) + 2
    if not parts:
        raise DocumentError("PDF has no text layer (scanned images?); run OCR on it first")
    meta_title, meta = "", {}
    try:  # the document info is optional and often damaged; the text matters more
        info = reader.metadata
        if info is not None:
            meta_title = str(info.title or "")
            if info.author:
                meta["author"] = str(info.author).strip()
            if info.creation_date:
                meta["date"] = info.creation_date.date().isoformat()
    except Exception as exc:
        log.info("PDF document info unreadable: %s", exc)
    return "\n\n".join(parts), meta_title, tuple(starts), {k: v for k, v in meta.items() if v}


def read_html(raw: str) -> tuple[str, str, dict[str, str]]:
    """Main text as Markdown. Hidden text and comments are removed *before* extraction, since
    they are a classic way to smuggle instructions to the LLM."""
    import lxml.html
    import trafilatura
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(raw)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(f"unreadable HTML ({exc})") from exc
    for bad in tree.xpath("//script|//style|//noscript|//template|//iframe|//comment()"):
        bad.drop_tree() if hasattr(bad, "drop_tree") else bad.getparent().remove(bad)
    hidden = tree.xpath(
        "//*[@hidden or @aria-hidden='true' or contains(translate(@style,' ',''),'display:none')"
        " or contains(translate(@style,' ',''),'visibility:hidden')]"
    )
    for el in hidden:
        el.drop_tree()
    title_el = tree.find(".//title")
    title = title_el.text_content().strip() if title_el is not None else ""
    h1 = tree.find(".//h1")
    if h1 is not None and h1.text_content().strip():
        title = h1.text_content().strip()
    cleaned = lxml.html.tostring(tree, encoding="unicode")
    text = trafilatura.extract(
        cleaned, output_format="markdown", include_comments=False, include_tables=True,
        favor_recall=True,
    )
    if not text:
        text = "\n\n".join(
            t.strip() for t in tree.xpath("//body//text()") if t.strip()
        )
    if title and text.lstrip().startswith("# " + title):
        text = text.lstrip()[len(title) + 2 :]
    return text.strip(), title, _html_byline(raw)


def _html_byline(raw: str) -> dict[str, str]:
    """Author, date and site name as trafilatura reads them from the page (meta tags, JSON-LD,
    ...), so a saved web page gets a byline like a Markdown file with front matter."""
    import trafilatura

    try:
        # Not `extensive`: that guesses the date from any date in the text ("On 3 May 2020
        # we retrained it" became the publication date).
        found = trafilatura.extract_metadata(raw, extensive=False)
    except Exception as exc:  # metadata is a bonus: never lose the article over it
        log.info("HTML metadata unreadable: %s", exc)
        return {}
    meta = {"author": getattr(found, "author", None), "date": getattr(found, "date", None),
            "publication": getattr(found, "sitename", None)} if found else {}
    return {k: " ".join(str(v).split()) for k, v in meta.items() if v}
