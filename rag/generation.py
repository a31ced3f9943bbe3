"""LLM backends, all as LangChain chat models, chosen from settings in one factory.

`LlamaCppChat` runs a GGUF file in-process with llama-cpp-python, using the chat template
stored in the model file, greedy decoding and one shared model guarded by a lock (the CPU
can only run one generation at a time anyway; callers queue). OpenAI-compatible servers and
Ollama come from `langchain-openai` and `langchain-ollama`, so streaming and stop
sequences behave alike everywhere. Prompt building and citation checks are left to
`rag.prompting` and `rag.citations`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from rag.config import Settings
from rag.errors import ConfigError, ModelUnavailableError
from rag.models import check_gguf, ensure_bundled_model
from rag.prompt_states import PromptStates

log = logging.getLogger(__name__)

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A local GGUF chat model. The model loads on first use, not at construction."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_path: str
    n_threads: int = 2
    n_ctx: int = 4096
    max_tokens: int = 320
    # Flash attention evaluates prompts ~6-9% faster on this CPU (604-token prompt, stop 15).
    flash_attn: bool = True
    # The assistant may ask this backend to never start a word of its refusal (see
    # `banned_words_kwargs`): llama.cpp can bias the tokens away, a remote server cannot.
    accepts_banned_words: ClassVar[bool] = True
    # ... and may hand it the reader's Stop (`stop_kwargs`), which llama.cpp can honour even
    # while it evaluates the prompt; a remote server's stream is only closed between tokens.
    accepts_stop_event: ClassVar[bool] = True
    _llm: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    # The answer's evaluated system prompt survives a follow-up's rewrite (rag.prompt_states).
    _states: PromptStates = PrivateAttr(default_factory=PromptStates)
    # The Stop of the call under way, read by llama.cpp's abort callback (`_watch_stop`).
    _stop_event: threading.Event | None = PrivateAttr(default=None)
    _abort_callback: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name

    def load(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            try:
                self._llm = Llama(model_path=self.model_path, n_ctx=self.n_ctx,
                                  n_threads=self.n_threads, n_threads_batch=self.n_threads,
                                  flash_attn=self.flash_attn, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise ModelUnavailableError(f"cannot load GGUF model {self.model_path}: {exc}") from exc
        return self._llm

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llm = self.load()
        payload = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        bias = self._ban(llm, kwargs.get("banned_words") or ())
        system = payload[0]["content"] if payload and payload[0]["role"] == "system" else ""
        with self._lock:
            # Every prompt starts from its evaluated system turn alone, so an answer does not
            # depend on the question before it; the retry continues its own first prompt.
            self._states.before(llm, system, continues=bool(kwargs.get("continues")))
            # Greedy decoding: answers must be reproducible and stay close to the passages.
            stream = llm.create_chat_completion(
                payload, stream=True, temperature=0.0, top_k=1, repeat_penalty=1.05,
                max_tokens=kwargs.get("max_tokens", self.max_tokens), stop=stop or None,
                logit_bias=bias or None,
            )
            stop_event = kwargs.get("stop_event")
            watching = self._watch_stop(llm, stop_event)
            try:
                for part in stream:
                    if watching:
                        # From the first token on the caller checks its Stop between tokens;
                        # a callback at every graph node (~800 a token) would only cost time.
                        watching = self._watch_stop(llm, None)
                    text = part["choices"][0]["delta"].get("content")
                    if text:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                        if run_manager:
                            run_manager.on_llm_new_token(text, chunk=chunk)
                        yield chunk
            except RuntimeError:
                # llama_decode returns 2 when the callback aborts it, and llama-cpp-python
                # raises. The unfinished batch's KV cells lie past `n_tokens`, and the next
                # evaluation removes them first, so the context stays usable.
                if stop_event is None or not stop_event.is_set():
                    raise
                log.info("the reader stopped the answer while the model read the prompt")
                # LangChain's `stream` raises on a stream of no chunks; an empty one says
                # "stopped with nothing" without being taken for a failed backend.
                yield ChatGenerationChunk(message=AIMessageChunk(content=""))
            finally:
                if watching:
                    self._watch_stop(llm, None)

    def _watch_stop(self, llm: Any, event: threading.Event | None) -> bool:
        """Have llama.cpp abort its evaluation once `event` is set (None: never); returns
        whether it now watches one.

        Without this a Stop waits until the whole prompt is evaluated (~5 s for four passages
        on 2 cores) and the first token lets the caller see it. The callback runs between the
        compute graph's nodes, so an abort lands within milliseconds."""
        import llama_cpp

        ctx = getattr(getattr(llm, "_ctx", None), "ctx", None)
        if ctx is None:
            return False
        if self._abort_callback is None:
            # Kept on the instance: llama.cpp holds the pointer, so ctypes must not free it.
            self._abort_callback = llama_cpp.ggml_abort_callback(
                lambda _data: self._stop_event is not None and self._stop_event.is_set())
        self._stop_event = event
        callback = self._abort_callback if event is not None else llama_cpp.ggml_abort_callback()
        llama_cpp.llama_set_abort_callback(ctx, callback, None)
        return event is not None

    @staticmethod
    def _ban(llm: Any, words: Sequence[str]) -> dict[int, float]:
        """Logit bias that keeps every token opening one of `words` (as a reply's first word or
        after a space) from ever being sampled."""
        bias: dict[int, float] = {}
        for word in words:
            for form in (word, " " + word):
                tokens = llm.tokenize(form.encode(), add_bos=False, special=False)
                if tokens:
                    bias[tokens[0]] = -100.0
        return bias

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        text = "".join(c.text for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def banned_words_kwargs(model: BaseChatModel, words: Sequence[str], *, continues: bool = False) -> dict[str, Any]:
    """Keyword arguments for `model.stream` that keep it from writing `words`, and (with
    `continues`) let it reuse the previous prompt, which the call extends, for backends that
    can (`accepts_banned_words`); others, or no words, get none."""
    if not words or not getattr(model, "accepts_banned_words", False):
        return {}
    return {"banned_words": list(words), **({"continues": True} if continues else {})}


def stop_kwargs(model: BaseChatModel, stop: threading.Event | None) -> dict[str, Any]:
    """Keyword arguments for `model.stream` that let the backend honour the reader's Stop
    itself, mid-prompt, where it can (`accepts_stop_event`); others get none and are stopped
    between tokens by the caller."""
    if stop is None or not getattr(model, "accepts_stop_event", False):
        return {}
    return {"stop_event": stop}


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The one place that turns settings into a chat model."""
    backend = settings.llm
    if backend == "local":
        path = ensure_bundled_model(settings.models_dir)
        return LlamaCppChat(model_path=str(path), n_threads=settings.llm_threads,
                            n_ctx=settings.llm_context, max_tokens=settings.llm_max_tokens,
                            flash_attn=settings.llm_flash_attn)
    if backend == "gguf":
        path = Path(settings.llm_model).expanduser()
        if not settings.llm_model or not path.is_file():
            raise ConfigError("RAG_LLM=gguf needs RAG_LLM_MODEL=/path/to/model.gguf (an existing file)")
        check_gguf(path)
        return LlamaCppChat(model_path=str(path), n_threads=settings.llm_threads,
                            n_ctx=settings.llm_context, max_tokens=settings.llm_max_tokens,
                            flash_attn=settings.llm_flash_attn)
    if backend == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.llm_model:
            raise ConfigError("RAG_LLM=openai needs RAG_LLM_MODEL (the model name the server serves)")
        return ChatOpenAI(
            model=settings.llm_model, base_url=settings.llm_base_url or None,
            api_key=settings.llm_api_key.get_secret_value() or "not-needed",
            temperature=0, max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout_s,
            max_retries=2, streaming=True,
        )
    if backend == "ollama":
        from langchain_ollama import ChatOllama

        if not settings.llm_model:
            raise ConfigError("RAG_LLM=ollama needs RAG_LLM_MODEL (e.g. llama3.2)")
        return ChatOllama(model=settings.llm_model,
                          base_url=settings.llm_base_url or "http://127.0.0.1:11434",
                          temperature=0, num_predict=settings.llm_max_tokens)
    raise ConfigError(f"unknown LLM backend {backend!r}; use local, gguf, openai or ollama")


def explain_llm_error(exc: BaseException, settings: Settings) -> ModelUnavailableError:
    """One actionable line for a failure of a remote backend (names the URL, never the key)."""
    # LangChain wrappers (e.g. OpenAIConnectionError) hide the client's own error; look down the
    # cause chain so the message names the real problem.
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    kinds = " ".join(type(e).__name__ for e in chain)
    kind = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    url = settings.llm_base_url or ("http://127.0.0.1:11434" if settings.llm == "ollama" else "the OpenAI API")
    text = str(exc).lower()
    if "Timeout" in kinds or "timed out" in text:
        msg = f"the LLM server at {url} did not answer within {settings.llm_timeout_s:g} s; is it overloaded?"
    elif "Connect" in kinds:
        msg = f"cannot reach the LLM server at {url}; start it or fix RAG_LLM_BASE_URL"
    elif status in (401, 403) or kind in ("AuthenticationError", "PermissionDeniedError"):
        msg = f"the LLM server at {url} rejected the API key; set RAG_LLM_API_KEY to a valid key"
    elif status == 404 or kind == "NotFoundError" or "not found" in text:
        msg = (f"model {settings.llm_model!r} was not found on the LLM server at {url}; check"
               " RAG_LLM_MODEL against the models the server offers")
    else:
        msg = f"the LLM backend failed ({kind}: {str(exc)[:200]})"
    return ModelUnavailableError(msg)


def describe(model: BaseChatModel | None) -> str:
    if model is None:
        return "none"
    for attr in ("model_name", "model"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return f"{model._llm_type}:{value}"
    return model._llm_type
