"""`pmrag index --url URL`: fetch a web article and save its main text into the corpus.

The page is downloaded with a size limit and a timeout, cleaned by the same HTML reader as
uploaded files (scripts, styles, comments and hidden text dropped, main text extracted by
trafilatura), and written as Markdown with front matter that records the URL, so citations
can link back to it. Indexing the saved file is left to `rag.indexing`.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from rag.documents import read_html
from rag.errors import DocumentError

USER_AGENT = "pm-learning-assistant/0.1 (+article fetch for a personal reading index)"


def fetch_html(url: str, *, timeout_s: float = 20.0, max_mb: float = 20.0) -> str:
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise DocumentError(f"{url}: only http:// and https:// URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    limit = int(max_mb * 1024 * 1024)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # noqa: S310 (scheme checked)
            ctype = resp.headers.get("Content-Type", "")
            if ctype and "html" not in ctype and "text" not in ctype:
                raise DocumentError(f"{url}: not a web page (Content-Type {ctype})")
            data = resp.read(limit + 1)
            charset = resp.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        raise DocumentError(f"{url}: the server answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DocumentError(f"{url}: cannot fetch ({reason}); check the address and your connection") from exc
    if len(data) > limit:
        raise DocumentError(f"{url}: page is over the {max_mb:g} MB limit")
    return data.decode(charset, errors="replace")


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80].rstrip("-") or "article"


def save_url(url: str, corpus: Path, *, timeout_s: float = 20.0, max_mb: float = 20.0) -> Path:
    """Fetch `url` and write it into `corpus` as Markdown; returns the new file's path.
    An article already saved from the same URL is replaced (it is the same article)."""
    import trafilatura

    raw = fetch_html(url, timeout_s=timeout_s, max_mb=max_mb)
    text, title, byline = read_html(raw)
    if len(text.split()) < 20:
        raise DocumentError(f"{url}: no article text found on the page")
    if not title:
        meta = trafilatura.extract_metadata(raw)
        title = (getattr(meta, "title", None) if meta else None) or url
    lines = ["---", f"title: {_yaml_str(title)}"]
    lines += [f"{key}: {_yaml_str(value)}" for key, value in byline.items()]  # author, date, publication
    lines += [f"url: {_yaml_str(url)}", f"fetched: {_yaml_str(time.strftime('%Y-%m-%d'))}", "---", ""]
    corpus.mkdir(parents=True, exist_ok=True)
    target = _target_for(url, slugify(title), corpus)
    tmp = corpus / f".{target.name}.part"
    tmp.write_text("\n".join(lines) + text.strip() + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def _target_for(url: str, slug: str, corpus: Path) -> Path:
    """Same URL -> same file; another article with the same title gets a numbered name."""
    n = 1
    while True:
        candidate = corpus / (f"{slug}.md" if n == 1 else f"{slug}-{n}.md")
        if not candidate.exists() or f"url: {_yaml_str(url)}" in candidate.read_text(errors="replace")[:2000]:
            return candidate
        n += 1


def _yaml_str(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
