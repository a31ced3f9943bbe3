"""Stream one reply from the chat model, as the page should see it.

The text is passed on as it comes, except what would flash on the page and then vanish: a
bare NOT COVERED, which the assistant retries or turns into a refusal, and a reply of only
citation markers or list labels ("[1] [2] [3] [4]", "B [2] and C [3]"), which says nothing,
are held back until the reply shows it is something else. A reply that starts to repeat a
sentence word for word (`rag.markers.repeat_start`) is cut there and the model stopped; so is
a reply the reader stops (a `threading.Event`), at its last finished sentence, or, stopped
before its first token, with nothing. The
time to the first shown text is recorded, a backend's own exception becomes one typed error
(`rag.generation.explain_llm_error`), and the model's stream is closed however the reply
ends. Which prompt is asked, whether to ask again, and what becomes of the reply (verified
by `rag.compose`) are left to the assistant (`rag.assistant`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator
from typing import Any

from langchain_core.language_models import BaseChatModel

from rag.answer import Timings
from rag.claims import content_words
from rag.compose import is_not_covered
from rag.config import Settings
from rag.errors import RagError
from rag.generation import explain_llm_error, stop_kwargs
from rag.markers import finished_sentences, repeat_start, without_markers
from rag.prompting import NOT_COVERED

log = logging.getLogger(__name__)


def stream_reply(chat_model: BaseChatModel, messages: list[tuple[str, str]], timings: Timings, t0: float,
                 t_gen: float, settings: Settings, options: dict[str, Any] | None = None,
                 stop: threading.Event | None = None) -> Generator[str, None, str]:
    """Stream one generation (returns the full text). A bare NOT COVERED is held back, so
    the page never flashes it before a retry or the refusal message. The first piece shown
    is the whole text so far; later ones are what the model added. `t_gen` (generation
    start) and `t0` (the question) time `timings.first_token_ms` and `timings.wait_ms`. Once
    `stop` is set the model is stopped at its next token and the reply cut to its finished
    sentences; the local model is also handed `stop`, and stops while it still evaluates
    the prompt (`rag.generation.stop_kwargs`)."""
    raw, shown = "", False
    # The local model also sees the Stop itself, so it can stop mid-prompt.
    stream = chat_model.stream(messages, **(options or {}), **stop_kwargs(chat_model, stop))
    try:
        for chunk in stream:
            piece = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if not piece:
                continue
            raw += piece
            if stop is not None and stop.is_set():
                log.info("the reader stopped the answer; generation stopped")
                raw = finished_sentences(raw)
                break
            loop = repeat_start(raw)
            if loop is not None:
                # Left alone, a loop runs to the token limit (9 s more on 2 cores for the
                # question in rag.markers.repeat_start), adding only the same sentence again.
                # The page then shows the verified answer, which says it once.
                log.info("the model repeats a sentence; generation stopped")
                raw = raw[:loop]
                break
            if not shown and (NOT_COVERED.startswith(raw.strip().upper()[: len(NOT_COVERED)])
                              or says_nothing(raw)):
                continue  # could still be NOT COVERED, or markers with no words yet: wait
            if not timings.first_token_ms:
                timings.first_token_ms = (time.perf_counter() - t_gen) * 1000
                timings.wait_ms = (time.perf_counter() - t0) * 1000
            yield raw if not shown else piece
            shown = True
    except RagError:
        raise
    except Exception as exc:  # backends raise their own types; users get one clear line
        raise explain_llm_error(exc, settings) from exc
    finally:
        stream.close()  # now, not when collected: a stopped generation frees the model's lock
    if not shown and not is_not_covered(raw) and not says_nothing(raw):
        timings.first_token_ms = timings.first_token_ms or (time.perf_counter() - t_gen) * 1000
        timings.wait_ms = timings.wait_ms or (time.perf_counter() - t0) * 1000
        yield raw
    return raw


def says_nothing(raw: str) -> bool:
    """No content word: empty, only citation markers, or list labels and stopwords around
    them ("B [2] and C [3]", the bundled model's whole answer to "Examples of AI use in
    finance?" when the passages were lettered lists)."""
    return not content_words(without_markers(raw))
