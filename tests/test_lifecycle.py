"""Crash safety and concurrency with real processes, real files and real FAISS."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.store import FaissStore
from tests.crash_child import HashEmbedder

REPO = Path(__file__).resolve().parents[1]


def _check_consistent(index: Path) -> str:
    data = FaissStore(index).load()
    assert len(data.chunks) == data.faiss_index.ntotal == len(data.vectors) > 0
    for c in data.chunks:
        assert data.articles[c.doc_id].text[c.start : c.end] == c.text
    assert set(data.manifest["documents"]) == set(data.articles)
    return data.generation


def test_kill_9_at_random_moments_always_leaves_a_loadable_index(tmp_path: Path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(REPO / "corpus", corpus)
    from rag.indexing import update_index

    settings = Settings.load(corpus_dir=corpus, index_dir=index, embed_model="hash-embedder")
    update_index(settings, HashEmbedder())
    rng = random.Random(1234)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    kills = saves_seen = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-m", "tests.crash_child", str(corpus), str(index)],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # first full rebuild done: the loop is running
        assert line.startswith("saved"), line
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills += 1
        saves_seen += 1
        _check_consistent(index)  # old or new generation, never a mix
    assert kills == 20
    # leftovers of interrupted saves are cleaned by the next successful save
    update_index(settings, HashEmbedder())
    update_index(settings, HashEmbedder(), full=True)
    leftovers = [p.name for p in (index / "generations").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_kill_9_of_real_pmrag_index_keeps_previous_index(tmp_path: Path, cache_dir: Path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(REPO / "corpus", corpus)
    env = dict(os.environ, PYTHONPATH=str(REPO), RAG_CACHE_DIR=str(cache_dir))
    cmd = [sys.executable, "-m", "rag.cli", "index", "--corpus", str(corpus), "--index", str(index)]
    assert subprocess.run([*cmd, "--json"], env=env, capture_output=True, timeout=300).returncode == 0
    before = _check_consistent(index)
    # a big new article makes the next run spend a while embedding
    (corpus / "long.md").write_text("\n\n".join(f"Paragraph {i} about discovery interviews, roadmap"
                                                  f" trade-offs and experiment number {i}." for i in range(3000)))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(9)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert _check_consistent(index) in {before, FaissStore(index).current_generation()}


def test_two_index_runs_at_once_one_fails_clearly(tmp_path: Path, cache_dir: Path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(REPO / "corpus", corpus)
    env = dict(os.environ, PYTHONPATH=str(REPO), RAG_CACHE_DIR=str(cache_dir))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from rag.store import FaissStore;"
        "cm = FaissStore(sys.argv[1]).lock(); cm.__enter__(); print('locked', flush=True); time.sleep(60)"),
        str(index)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        done = subprocess.run([sys.executable, "-m", "rag.cli", "index", "--corpus", str(corpus),
                               "--index", str(index), "--json"], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 2
        assert "another `pmrag index` is updating" in done.stderr
    finally:
        holder.kill()
        holder.wait()
    done = subprocess.run([sys.executable, "-m", "rag.cli", "index", "--corpus", str(corpus),
                           "--index", str(index), "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and json.loads(done.stdout)["documents"] == 5


@pytest.mark.parametrize("n_readers", [4])
def test_queries_keep_working_during_rebuilds(tmp_path: Path, cache_dir: Path, embedder, n_readers: int):
    """Readers in threads ask while the main thread rebuilds; no query ever fails."""
    import threading

    from rag.assistant import Assistant
    from rag.indexing import update_index

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(REPO / "corpus", corpus)
    settings = Settings.load(corpus_dir=corpus, index_dir=index, cache_dir=cache_dir)
    update_index(settings, embedder)
    assistant = Assistant.load(settings, embedder=embedder)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                hits = assistant.search("Why is monitoring important for ML products?", 3)
                assert hits and hits[0].chunk.text
            except BaseException as exc:  # noqa: BLE001 - collect for the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(n_readers)]
    for t in threads:
        t.start()
    for i in range(6):
        (corpus / f"extra-{i}.md").write_text(f"# Extra {i}\n\nNotes on stakeholder update number {i}.\n")
        update_index(settings, embedder)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert assistant.index.generation == FaissStore(index).current_generation()
