import json
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from rag.chunking import Chunk
from rag.documents import Article
from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from rag.store import FaissStore, IndexData

SIG = {"embed_model": "m", "chunk_tokens": 128, "chunk_overlap": 24, "dim": 4}


def _data(n_docs: int = 2) -> IndexData:
    arts, chunks, vecs = {}, [], []
    for d in range(n_docs):
        text = f"document {d} text"
        arts[f"d{d}.md"] = Article(f"d{d}.md", f"Doc {d}", text, f"h{d}")
        chunks.append(Chunk(f"d{d}.md", 0, 0, len(text), "", text))
        v = np.zeros(4, np.float32)
        v[d % 4] = 1
        vecs.append(v)
    return IndexData(dict(SIG, documents={}), arts, chunks, np.vstack(vecs))


def test_roundtrip_and_search(tmp_path: Path):
    store = FaissStore(tmp_path)
    store.save(_data())
    data = store.load(SIG)
    assert [c.doc_id for c in data.chunks] == ["d0.md", "d1.md"]
    assert data.articles["d1.md"].title == "Doc 1"
    row, score = data.search(np.array([0, 1, 0, 0], np.float32), 1)[0]
    assert data.chunks[row].doc_id == "d1.md" and score == pytest.approx(1.0)


def test_missing_index_says_how_to_build(tmp_path: Path):
    with pytest.raises(IndexMissingError, match="pmrag index"):
        FaissStore(tmp_path / "nothing").load(SIG)


def test_mismatch_refuses_and_names_the_setting(tmp_path: Path):
    store = FaissStore(tmp_path)
    store.save(_data())
    with pytest.raises(IndexMismatchError, match="chunk_tokens: index has 128, settings say 64"):
        store.load(dict(SIG, chunk_tokens=64))


def test_new_generation_swaps_and_previous_is_kept(tmp_path: Path):
    store = FaissStore(tmp_path)
    first = store.save(_data(1))
    second = store.save(_data(2))
    third = store.save(_data(3))
    assert store.current_generation() == third
    names = sorted(p.name for p in (tmp_path / "generations").iterdir())
    assert names == sorted([second, third]) and first not in names
    assert len(store.load(SIG).chunks) == 3


def test_damaged_generation_is_reported(tmp_path: Path):
    store = FaissStore(tmp_path)
    gen = store.save(_data())
    (tmp_path / "generations" / gen / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="rebuild"):
        store.load(SIG)


def test_manifest_describes_the_index(tmp_path: Path):
    store = FaissStore(tmp_path)
    gen = store.save(_data())
    manifest = json.loads((tmp_path / "generations" / gen / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["embed_model"] == "m" and manifest["dim"] == 4


def _hold_lock(root: str, ready, release) -> None:
    with FaissStore(Path(root)).lock():
        ready.set()
        release.wait(10)


def test_second_writer_is_refused_while_first_holds_the_lock(tmp_path: Path):
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(30)
        with pytest.raises(IndexLockedError, match="another `pmrag index`"):
            with FaissStore(tmp_path).lock():
                pass
    finally:
        release.set()
        proc.join(10)
    with FaissStore(tmp_path).lock():  # free again once the holder is gone
        pass
