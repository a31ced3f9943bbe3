"""Every kind of bad file gets a defined outcome; good files are still indexed; the corpus is
left exactly as it was. Runs the real `pmrag index --json` on tests/data/bad_corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rag.corpus_files import add_files
from rag.store import FaissStore

REPO = Path(__file__).resolve().parents[1]
BAD = REPO / "tests" / "data" / "bad_corpus"

EXPECTED_FAILURES = {
    "encrypted.pdf": "encrypted PDF",
    "corrupt.pdf": "corrupt or unreadable PDF",
    "image-only.pdf": "no text layer",
    "empty.md": "empty file",
    "binary.md": "binary data",
    "link-outside.md": "symlink points outside the corpus",
    "notes.docx": "unsupported file type",
    # first build: sorted by name, so the "-copy" file is kept and the other reported
    "stakeholder-updates.md": "same content as stakeholder-updates-copy.md",
    "huge.txt": "over the 20 MB limit",
}


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    return {p.name: (os.readlink(p) if p.is_symlink() else p.read_bytes()) for p in folder.iterdir()}


def test_bad_corpus_outcomes(tmp_path: Path, cache_dir: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    for p in BAD.iterdir():
        if p.suffix != ".py":
            shutil.copy(p, corpus / p.name, follow_symlinks=False)
    with (corpus / "huge.txt").open("wb") as fh:  # 50 MB, generated, never committed
        line = b"A very long meeting transcript line about sprint planning.\n"
        fh.write(line * (50 * 1024 * 1024 // len(line) + 1))
    before = _snapshot(corpus)
    env = dict(os.environ, PYTHONPATH=str(REPO), RAG_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-m", "rag.cli", "index", "--json", "--corpus", str(corpus),
                           "--index", str(tmp_path / "index")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 1, done.stderr  # some files failed
    report = json.loads(done.stdout)
    reasons = {f["path"]: f["reason"] for f in report["failed"]}
    for name, reason in EXPECTED_FAILURES.items():
        assert reason in reasons.get(name, ""), (name, reasons.get(name))
    assert set(reasons) == set(EXPECTED_FAILURES)
    # the good ones: the 5 articles, the cp1252 note, the cleaned HTML, one stakeholder copy
    assert report["documents"] == 8
    assert {"windows-1252.txt", "scripts-and-hidden.html", "stakeholder-updates-copy.md"} <= set(report["added"])
    assert _snapshot(corpus) == before  # nothing altered or lost
    data = FaissStore(tmp_path / "index").load()
    html_text = data.articles["scripts-and-hidden.html"].text
    assert "discovery interviews with five users" in html_text
    assert "MUST-NOT-APPEAR" not in html_text and "font-family" not in html_text
    assert "Café roadmap review – “ship small, learn fast”" in data.articles["windows-1252.txt"].text


def test_upload_name_with_path_traversal_lands_inside_the_corpus(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    src = tmp_path / "upload.tmp"
    src.write_text("# Notes\n\nOKR notes.")
    copied, failed = add_files([src], corpus, original_names=["../../../etc/cron.d/evil.md"])
    assert copied == ["evil.md"] and not failed
    assert [p.name for p in tmp_path.rglob("evil.md")] == ["evil.md"]
    assert (corpus / "evil.md").exists()
