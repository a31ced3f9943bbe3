"""LLM backends against real servers on 127.0.0.1.

- OpenAI-compatible: llama-cpp-python's own server (`python -m llama_cpp.server`) serving the
  bundled GGUF, reached through `langchain-openai`.
- Ollama: no Ollama server installs from the package registries here, so a small local HTTP
  server speaks the part of Ollama's API the client uses (POST /api/chat, NDJSON stream).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.errors import ModelUnavailableError
from rag.generation import build_chat_model
from rag.models import bundled_model_path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Why is monitoring important for ML products?"
MONITORING = "product-management-with-a-data-science-mindset.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(cache_dir):
    from rag.config import Settings

    model = bundled_model_path(Settings.load().models_dir)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "bundled",
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "4096",
         "--api_key", "test-key"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            req = urllib.request.Request(f"{url}/models", headers={"Authorization": "Bearer test-key"})
            urllib.request.urlopen(req, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("llama_cpp.server exited early")
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start")
    yield url
    proc.terminate()
    proc.wait(30)


def _assistant(built_index, embedder, **llm):
    settings = built_index.model_copy(update=llm)
    return Assistant.load(settings, embedder=embedder, chat_model=build_chat_model(settings))


@pytest.mark.llm
def test_openai_backend_against_llama_cpp_server_streams_cited_answer(llama_server, built_index, embedder):
    from pydantic import SecretStr

    from rag.answer import Answer

    a = _assistant(built_index, embedder, llm="openai", llm_base_url=llama_server, llm_model="bundled",
                   llm_api_key=SecretStr("test-key"))
    events = list(a.stream(QUESTION))
    pieces, answer = events[:-1], events[-1]
    assert isinstance(answer, Answer) and len(pieces) > 3  # really streamed, token by token
    assert not answer.refused, answer.raw_answer
    assert MONITORING in {c.doc_id for c in answer.citations}
    assert all(f"[{c.n}]" in answer.text for c in answer.citations)


def test_openai_backend_wrong_key_is_one_clear_error(llama_server, built_index, embedder):
    from pydantic import SecretStr

    a = _assistant(built_index, embedder, llm="openai", llm_base_url=llama_server, llm_model="bundled",
                   llm_api_key=SecretStr("wrong-key"))
    with pytest.raises(ModelUnavailableError, match="rejected the API key"):
        a.ask(QUESTION)


def test_unreachable_server_is_one_clear_error(built_index, embedder):
    url = f"http://127.0.0.1:{free_port()}/v1"
    a = _assistant(built_index, embedder, llm="openai", llm_base_url=url, llm_model="x", llm_timeout_s=5.0)
    with pytest.raises(ModelUnavailableError, match="cannot reach the LLM server at " + url):
        a.ask(QUESTION)


def test_cli_prints_one_line_for_unreachable_server(built_index, cache_dir):
    env = dict(os.environ, PYTHONPATH=str(REPO), RAG_CACHE_DIR=str(cache_dir))
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ask", QUESTION, "--index", str(built_index.index_dir),
                           "--llm", "openai", "--llm-base-url", url, "--llm-model", "x"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    # The progress note comes first ("Reading 4 passages from …", printed as the LLM is
    # called); then the error, in one line and no traceback.
    lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
    assert lines[0].startswith("Reading 4 passages from “"), lines
    assert lines[1:] == [f"error: cannot reach the LLM server at {url}; start it or fix RAG_LLM_BASE_URL"]


class _FakeOllama(http.server.BaseHTTPRequestHandler):
    reply = "Monitoring is not optional [1]. It is the most under valued component of operationalizing ML solutions [1]."
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        if self.path != "/api/chat":
            self.send_error(404)
            return
        if body["model"] != "llama3.2":
            data = json.dumps({"error": f"model '{body['model']}' not found, try pulling it first"}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        now = "2026-11-23T00:00:00Z"
        for word in self.reply.split(" "):
            line = {"model": body["model"], "created_at": now, "done": False,
                    "message": {"role": "assistant", "content": word + " "}}
            self.wfile.write((json.dumps(line) + "\n").encode())
        final = {"model": body["model"], "created_at": now, "done": True, "done_reason": "stop",
                 "message": {"role": "assistant", "content": ""}, "total_duration": 1, "eval_count": 5,
                 "prompt_eval_count": 5}
        self.wfile.write((json.dumps(final) + "\n").encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def fake_ollama():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOllama)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _FakeOllama.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ollama_backend_streams_and_cites(fake_ollama, built_index, embedder):
    a = _assistant(built_index, embedder, llm="ollama", llm_base_url=fake_ollama, llm_model="llama3.2")
    answer = a.ask(QUESTION)
    assert not answer.refused and answer.citations[0].doc_id == MONITORING
    sent = _FakeOllama.requests[-1]
    assert sent["stream"] is True and sent["messages"][0]["role"] == "system"
    assert "Monitoring is not optional" in sent["messages"][-1]["content"]  # the passages were sent


def test_ollama_wrong_model_is_one_clear_error(fake_ollama, built_index, embedder):
    a = _assistant(built_index, embedder, llm="ollama", llm_base_url=fake_ollama, llm_model="nope")
    with pytest.raises(ModelUnavailableError, match="model 'nope' was not found"):
        a.ask(QUESTION)


def test_only_backends_that_can_ban_words_are_asked_to() -> None:
    """The retry's ban on refusal words (rag.assistant) is a llama.cpp logit bias; an OpenAI or
    Ollama server knows other token ids, so it gets no extra arguments and the prompt alone."""
    from rag.config import Settings
    from rag.generation import LlamaCppChat, banned_words_kwargs

    local = LlamaCppChat(model_path=str(bundled_model_path(Settings.load().models_dir)))
    assert banned_words_kwargs(local, ["NOT"]) == {"banned_words": ["NOT"]}
    for backend in ("openai", "ollama"):
        model = build_chat_model(Settings.load(llm=backend, llm_model="m", llm_base_url="http://127.0.0.1:9"))
        assert banned_words_kwargs(model, ["NOT"]) == {}


def test_only_the_local_model_is_handed_the_readers_stop() -> None:
    """llama.cpp can abort the prompt's evaluation on a Stop (rag.generation._watch_stop); an
    OpenAI or Ollama client would send an unknown `stop_event` argument to its server, so it
    gets none and is stopped between tokens by the caller."""
    from rag.config import Settings
    from rag.generation import LlamaCppChat, stop_kwargs

    stop = threading.Event()
    local = LlamaCppChat(model_path=str(bundled_model_path(Settings.load().models_dir)))
    assert stop_kwargs(local, stop) == {"stop_event": stop} and stop_kwargs(local, None) == {}
    for backend in ("openai", "ollama"):
        model = build_chat_model(Settings.load(llm=backend, llm_model="m", llm_base_url="http://127.0.0.1:9"))
        assert stop_kwargs(model, stop) == {}
