"""Adding articles to the corpus folder from files a user hands over (`pmrag add`, the
page's upload): a safe file name, no overwriting of another article, and a clear failure
for a missing, unsupported or oversized file. Indexing them is `rag.indexing`.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from rag.documents import SUPPORTED_SUFFIXES
from rag.indexing import Failure


def safe_name(name: str) -> str:
    """A plain file name from an untrusted one: no folders, no traversal, no odd characters."""
    base = name.replace("\\", "/").split("/")[-1]
    base = unicodedata.normalize("NFKC", base)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:80] or "article"
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def add_files(paths: Iterable[Path], corpus: Path, *, original_names: Iterable[str] | None = None,
              max_mb: float = 20.0) -> tuple[list[str], list[Failure]]:
    """Copy files into the corpus. Never overwrites a different article: a name clash gets a
    numbered name; an identical file already present is not copied twice."""
    corpus.mkdir(parents=True, exist_ok=True)
    names = list(original_names) if original_names is not None else None
    copied: list[str] = []
    failed: list[Failure] = []
    for i, src in enumerate(paths):
        label = names[i] if names else str(src)
        src = Path(src)
        if not src.is_file():
            failed.append(Failure(label, "not a file"))
            continue
        target_name = safe_name(names[i] if names else src.name)
        if Path(target_name).suffix.lower() not in SUPPORTED_SUFFIXES:
            failed.append(Failure(label, f"unsupported file type; use one of {', '.join(SUPPORTED_SUFFIXES)}"))
            continue
        if src.stat().st_size > max_mb * 1024 * 1024:
            failed.append(Failure(label, f"file is over the {max_mb:g} MB limit (raise RAG_MAX_FILE_MB)"))
            continue
        data = src.read_bytes()
        target = corpus / target_name
        n = 2
        while target.exists():
            if target.read_bytes() == data:
                break
            target = corpus / f"{Path(target_name).stem}-{n}{Path(target_name).suffix}"
            n += 1
        if not target.exists():
            tmp = corpus / f".{target.name}.part"
            shutil.copyfile(src, tmp)
            tmp.replace(target)
        copied.append(target.name)
    return copied, failed
