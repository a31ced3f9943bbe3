"""`pmrag index --url` against a real local http.server on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.webfetch import save_url
from tests.data.make_bad_corpus import GOOD_HTML

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def site(tmp_path: Path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "article.html").write_text(GOOD_HTML.replace("<head>", '<head><meta name="author" content="Ada Lovelace">'))
    (root / "empty.html").write_text("<html><body><nav>only navigation</nav></body></html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_save_url_writes_markdown_with_url_in_front_matter(site: str, tmp_path: Path):
    path = save_url(f"{site}/article.html", tmp_path / "corpus")
    text = path.read_text()
    assert path.name == "discovery-interviews-for-ml-features.md"
    assert f'url: "{site}/article.html"' in text and 'title: "Discovery interviews for ML features"' in text
    assert 'author: "Ada Lovelace"' in text
    assert "discovery interviews with five users" in text
    assert "MUST-NOT-APPEAR" not in text
    again = save_url(f"{site}/article.html", tmp_path / "corpus")  # same URL: same file
    assert again == path and len(list((tmp_path / "corpus").iterdir())) == 1


def test_fetch_errors_are_clear(site: str, tmp_path: Path):
    with pytest.raises(DocumentError, match="404"):
        save_url(f"{site}/missing.html", tmp_path)
    with pytest.raises(DocumentError, match="no article text"):
        save_url(f"{site}/empty.html", tmp_path)
    with pytest.raises(DocumentError, match="only http"):
        save_url("file:///etc/passwd", tmp_path)


def test_cli_index_url_indexes_the_article(site: str, tmp_path: Path, cache_dir: Path):
    env = dict(os.environ, PYTHONPATH=str(REPO), RAG_CACHE_DIR=str(cache_dir))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    done = subprocess.run([sys.executable, "-m", "rag.cli", "index", "--json", "--url", f"{site}/article.html",
                           "--url", f"{site}/missing.html", "--corpus", str(corpus), "--index", str(tmp_path / "index")],
                          env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["added"] == ["discovery-interviews-for-ml-features.md"]
    assert report["failed"][0]["path"].endswith("missing.html") and "404" in report["failed"][0]["reason"]
    assert done.returncode == 1
