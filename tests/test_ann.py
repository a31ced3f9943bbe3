"""The ANN index type: HNSW finds what exact search finds, the setting picks the type, and a
saved HNSW generation loads back (or is rebuilt) as the settings ask. No timing here: speed
is measured by `pmrag bench`, not asserted."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from rag.chunking import Chunk
from rag.config import Settings
from rag.store import AnnConfig, FaissStore, IndexData, build_faiss, index_kind


def _vectors(n: int, seed: int, dim: int = 64) -> np.ndarray:
    # Low-rank structure like real embeddings (random isotropic vectors have no near
    # neighbours worth finding, which no ANN index is built for).
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).standard_normal((16, dim)).astype(np.float32)
    x = rng.standard_normal((n, 16)).astype(np.float32) @ basis
    x += 0.05 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_hnsw_returns_the_same_top_hits_as_flat() -> None:
    x, queries = _vectors(3000, 0), _vectors(50, 1)
    flat = build_faiss(x, AnnConfig(kind="flat"))
    hnsw = build_faiss(x, AnnConfig(kind="hnsw", hnsw_m=16, ef_construction=40, ef_search=64))
    assert index_kind(flat) == "flat" and index_kind(hnsw) == "hnsw"
    _, exact = flat.search(queries, 10)
    _, approx = hnsw.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
    assert recall >= 0.95
    assert (exact[:, 0] == approx[:, 0]).mean() >= 0.95  # the best hit is nearly always found


def test_setting_switches_the_index_type() -> None:
    x = _vectors(500, 2)
    assert index_kind(build_faiss(x)) == "flat"  # default auto, below the threshold
    assert index_kind(build_faiss(x, AnnConfig(kind="auto", threshold=400))) == "hnsw"
    assert index_kind(build_faiss(x, AnnConfig(kind="auto", threshold=501))) == "flat"
    settings = Settings.load(ann_index="hnsw", hnsw_m=8, hnsw_ef_search=50)
    index = build_faiss(x, AnnConfig.from_settings(settings))
    assert isinstance(index, faiss.IndexHNSWFlat) and index.hnsw.efSearch == 50
    assert index_kind(build_faiss(x, AnnConfig.from_settings(Settings.load(ann_index="flat")))) == "flat"
    with pytest.raises(ValueError):
        AnnConfig(kind="ivf")


def test_saved_hnsw_loads_back_and_is_rebuilt_when_settings_change(tmp_path) -> None:
    x = _vectors(300, 3)
    data = IndexData({"dim": x.shape[1]}, {}, [_chunk(i) for i in range(len(x))], x)
    store = FaissStore(tmp_path, AnnConfig(kind="hnsw", hnsw_m=8))
    store.save(data)
    assert store.read_manifest()["index_type"] == "faiss.IndexHNSWFlat"

    loaded = store.load()
    assert index_kind(loaded.faiss_index) == "hnsw"
    np.testing.assert_array_equal(loaded.vectors, x)  # HNSWFlat keeps the exact vectors
    assert loaded.search(x[7], 1)[0][0] == 7

    as_flat = FaissStore(tmp_path, AnnConfig(kind="flat")).load()
    assert index_kind(as_flat.faiss_index) == "flat"
    assert as_flat.search(x[7], 1)[0][0] == 7
    assert index_kind(FaissStore(tmp_path).load().faiss_index) == "hnsw"  # no config: as saved


def _chunk(i: int) -> Chunk:
    return Chunk(doc_id="d.md", ordinal=i, start=i, end=i + 1, heading="", text=f"t{i}")
