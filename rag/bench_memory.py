"""Memory section of `pmrag bench`: peak resident memory of the real commands, each in its
own child process.

`pmrag index --full` runs on the SciFact corpus folder the incremental section wrote, with
that section's copy of the embedding cache (so the figure is the model, the chunks, the
vectors and the save; embedding batches of 32 add little). `pmrag serve` runs on the copy
of the PM corpus the ask section indexed; one question is sent through the page's own
`/chat` endpoint so the bundled LLM is really loaded, then the server's peak (VmHWM) is
read from /proc and the server is stopped. The GGUF file is memory-mapped, so its pages
count in RSS once touched. What the figures mean is written by `rag.bench`.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rag.bench_util import peak_rss_mb, run_measured

log = logging.getLogger(__name__)


def _pmrag(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag.cli", *args]


def index_rss(corpus: Path, cache_dir: Path, work: Path, timeout: float = 900) -> dict[str, Any]:
    env = dict(os.environ, RAG_CORPUS_DIR=str(corpus), RAG_INDEX_DIR=str(work / "memory-index"),
               RAG_CACHE_DIR=str(cache_dir))
    code, seconds, peak, err = run_measured(_pmrag("index", "--json"), env, timeout)
    if code not in (0, 1):
        log.warning("pmrag index exited %d: %s", code, err)
    return {"memory_index_peak_rss_mb": round(peak), "memory_index_s": round(seconds, 1),
            "memory_index_docs": sum(1 for _ in corpus.glob("*.md")), "memory_index_exit": code}


def serve_rss(corpus: Path, index_dir: Path, question: str, timeout: float = 600) -> dict[str, Any]:
    port = _free_port()
    env = dict(os.environ, RAG_CORPUS_DIR=str(corpus), RAG_INDEX_DIR=str(index_dir))
    proc = subprocess.Popen(_pmrag("serve", "--port", str(port)), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        while not _listening(port):
            if proc.poll() is not None or time.perf_counter() - t0 > 180:
                log.warning("pmrag serve did not come up (exit %s)", proc.poll())
                return {"memory_serve_error": "server did not start"}
            time.sleep(0.5)
        out["memory_serve_startup_s"] = round(time.perf_counter() - t0, 1)
        out["memory_serve_idle_rss_mb"] = round(_rss_mb(proc.pid))
        from gradio_client import Client

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        job = client.submit(question, [], 4, api_name="/chat")
        deadline = time.perf_counter() + timeout
        for _ in job:
            if time.perf_counter() > deadline:
                job.cancel()
                break
        job.outputs()
        out["memory_serve_peak_rss_mb"] = round(peak_rss_mb(proc.pid))
        out["memory_serve_rss_after_answer_mb"] = round(_rss_mb(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0
