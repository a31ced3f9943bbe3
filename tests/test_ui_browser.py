"""The chat page in a real Chromium, against the real app: real embedder, a real index built
from a copy of corpus/, and the real bundled LLM. Slow (each answer takes the local LLM tens
of seconds on 2 cores), so marked `browser`. Needs Debian's chromium (`make browser-deps`).
"""

from __future__ import annotations

import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.store import FaissStore
from tests.conftest import CORPUS, REPO, make_settings

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ANSWER_TIMEOUT_MS = 300_000  # the local LLM queues and decodes ~27 tok/s on a shared CPU
SCREENSHOT = REPO / "docs" / "screenshot.png"

NEW_ARTICLE = """---
title: Lantern Reviews at Zephyr Logistics
author: Test Author
---

# Lantern Reviews at Zephyr Logistics

## What a lantern review is

At Zephyr Logistics, the product team replaced sprint demos with a lantern review. A lantern
review is a fifteen-minute meeting where the product manager shows one customer problem,
one metric that moved, and one experiment that failed. The name comes from the paper
lantern that the team passes to whoever is presenting.

## Why the team adopted it

The team adopted lantern reviews because sprint demos had turned into feature parades that
hid failed experiments. Sharing one failed experiment every week made it safe to talk
about what did not work, and the product manager learned faster which ideas to drop.
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    url: str
    feedback: Path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, embedder, local_llm):
    from rag.indexing import update_index
    from ui.app import serve

    tmp = tmp_path_factory.mktemp("ui")
    shutil.copytree(CORPUS, tmp / "corpus")
    settings = make_settings(tmp, cache_dir, port=_free_port())
    assert not update_index(settings, embedder).failed
    assistant = Assistant(settings, embedder, FaissStore(settings.index_dir), local_llm)
    demo = serve(settings, block=False, assistant=assistant, feedback_path=tmp / "feedback.jsonl")
    yield App(f"http://127.0.0.1:{settings.port}/", tmp / "feedback.jsonl")
    demo.close()


@pytest.fixture()
def page(tmp_path: Path, app: App):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=args, headless=True,
            viewport={"width": 1360, "height": 1000})
        page = ctx.new_page()
        page.requests = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.goto(app.url)
        page.wait_for_selector("#chat")
        yield page
        ctx.close()


# Records, in the page, the span of positions the box, the chat and the panel under the box take
# while an answer streams: a sample on every change of the page (one-frame states included) and
# every 100 ms. The chat scrolling inside itself is not a move of the page.
WATCH_LAYOUT_JS = """() => {
  const ids = ['#question', '#chat', '#settings'];
  window.__span = {};
  const sample = () => ids.forEach(id => {
    const el = document.querySelector(id); if (!el) return;
    const r = el.getBoundingClientRect();
    for (const [k, v] of [['left', r.left], ['width', r.width], ['top', r.top + window.scrollY]]) {
      const key = id + ' ' + k, s = window.__span[key] || (window.__span[key] = [v, v]);
      s[0] = Math.min(s[0], v); s[1] = Math.max(s[1], v);
    }
  });
  sample();
  new MutationObserver(sample).observe(document.body, {subtree: true, childList: true, characterData: true,
                                                      attributes: true});
  setInterval(sample, 100);
}"""


def layout_moves(page) -> dict[str, float]:
    """What moved more than a pixel since `WATCH_LAYOUT_JS` ran: {"#chat left": 47.0, ...}."""
    spans = page.evaluate("() => window.__span")
    return {k: round(hi - lo, 1) for k, (lo, hi) in spans.items() if hi - lo > 1}


def ask(page, question: str):
    """Type a question, check the answer streams in, and return the finished bot message."""
    done = page.locator("#chat [data-testid=bot] .pm-sources")
    before = done.count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        """n => document.querySelectorAll('#chat [data-testid=bot] .pm-sources').length > n""",
        arg=before, timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#chat [data-testid=bot]").last


def test_answer_streams_with_sources_then_an_uploaded_article_is_cited(page, tmp_path: Path, app: App):
    assert "5 articles" in page.locator("#index-status").inner_text()
    page.locator("#index-status summary").click()  # the folded list of titles
    assert page.locator("#index-status li").count() == 5
    assert page.locator("#index-status li").get_by_text("Pathways to Becoming an AI/ML Product Manager").is_visible()
    chat = page.locator("#chat")
    assert "What should a PM learn" in chat.inner_text()  # example questions on an empty chat

    # The layout is watched in a laptop's window (1280 x 800, where a helper measured the page
    # 47 px off sideways at stop 48; not reproduced here), the rest at the screenshot's size.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#question textarea").fill("How did the author become a more technical product manager?")
    page.evaluate(WATCH_LAYOUT_JS)
    page.locator("#ask").click()
    # While the model reads its passages (~5 s of prompt), the note names the articles read.
    page.wait_for_function(
        """() => [...document.querySelectorAll('#chat .pm-pending')]
                   .some(p => p.innerText.includes('Reading') && p.innerText.includes('“'))""",
        timeout=ANSWER_TIMEOUT_MS)
    # Streaming: the bot message shows answer text before the sources panel is added.
    page.wait_for_function(
        """() => { const m = [...document.querySelectorAll('#chat [data-testid=bot]')].pop();
                   return m && !m.querySelector('.pm-pending') && !m.querySelector('.pm-sources')
                          && m.innerText.trim().length > 10; }""", timeout=ANSWER_TIMEOUT_MS)
    # Then, while the LLM reads the passages again, the draft stays and a note under it says
    # the checked answer will replace it (rag.readings; the note is gone once it does).
    page.wait_for_function(
        """() => { const m = [...document.querySelectorAll('#chat [data-testid=bot]')].pop();
                   const p = m && m.querySelector('.pm-pending');
                   return p && p.innerText.includes('Checking this draft')
                          && m.innerText.length > p.innerText.length + 10; }""", timeout=ANSWER_TIMEOUT_MS)
    # The reader types the next question meanwhile, and presses Enter: the text survives the
    # updates still streaming in, and no second answer starts over the first.
    box = page.locator("#question textarea")
    box.fill("What else should I read?")
    box.press("Enter")
    page.wait_for_selector("#chat [data-testid=bot] .pm-sources", timeout=ANSWER_TIMEOUT_MS)
    assert "Checking this draft" not in page.locator("#chat [data-testid=bot]").last.inner_text()
    time.sleep(1)
    assert box.input_value() == "What else should I read?"
    assert page.locator("#chat [data-testid=user]").count() == 1
    first = page.locator("#chat [data-testid=bot]").last
    assert first.locator(".pm-cite").count() >= 1
    sources = first.locator(".pm-source")
    assert sources.count() >= 1
    assert "Becoming a more technical product manager" in sources.first.inner_text()
    assert first.locator(".pm-source mark").count() >= 1  # the cited sentence is highlighted
    # Nothing around the answer moved while it streamed: on stop 47's page the box's width spanned
    # 352 px as Ask and Stop swapped, and the panel under it moved by 4 px.
    assert layout_moves(page) == {}
    page.set_viewport_size({"width": 1360, "height": 1000})  # the README screenshot's size

    article = tmp_path / "lantern-reviews.md"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    page.locator("#add").click()  # nothing chosen yet: told to choose, and told no more once chosen
    page.wait_for_function("() => (document.querySelector('#upload-status')?.innerText || '').includes('first')")
    page.locator("#upload input[type=file]").set_input_files(str(article))
    page.wait_for_function("() => (document.querySelector('#upload-status')?.innerText || '').trim() === ''")
    # The file list shows the name and its extension in separate elements.
    page.wait_for_function("() => (document.querySelector('#upload')?.innerText || '').includes('lantern-reviews')")
    page.locator("#add").click()
    page.wait_for_function("() => (document.querySelector('#upload-status')?.innerText || '').includes('Added')",
                           timeout=120_000)
    assert "6 articles" in page.locator("#index-status").inner_text()

    second = ask(page, "What is a lantern review at Zephyr Logistics?")
    assert second.locator(".pm-cite").count() >= 1
    assert "Lantern Reviews at Zephyr Logistics" in second.locator(".pm-sources").inner_text()

    # Keep the conversation: thumbs up is logged with its citations; the export (top lines
    # visible in the code box, which renders lazily) starts with the first question.
    page.locator("#chat button[aria-label=Like]").last.click()
    deadline = time.time() + 10
    # Wait for the whole line: the file exists as soon as the handler opens it, before the
    # write lands (a clean-clone CI run read it empty once).
    while not (app.feedback.exists() and app.feedback.read_text().endswith("\n")) and time.time() < deadline:
        time.sleep(0.2)
    assert "lantern-reviews.md" in app.feedback.read_text()
    page.locator("#keep").get_by_text("Keep the conversation").click()
    page.wait_for_selector("#export", state="visible")
    assert not page.locator("#export-md").is_visible()  # no empty boxes before there is an export
    page.locator("#export").click()
    page.wait_for_function(
        "() => (document.querySelector('#export-md')?.innerText || '').includes('## Q: How did the author')")
    page.locator("#keep").get_by_text("Keep the conversation").click()  # closed again for the screenshot

    page.locator("#settings").get_by_text("Settings and debug").click()
    page.wait_for_function("() => (document.querySelector('#debug')?.innerText || '').includes('Timings')")
    debug = page.locator("#debug").inner_text()
    assert "lantern-reviews.md" in debug and "first token" in debug
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    # Nothing is fetched from anywhere but the app itself (no analytics, fonts or CDNs).
    assert all(u.startswith((app.url, "data:", "blob:")) for u in page.requests), \
        [u for u in page.requests if not u.startswith(app.url)]


def test_stop_during_the_second_reading_shows_the_first_readings_answer(page):
    """Stop takes Ask's place while an answer runs; pressed while the passages are read again,
    it shows the first reading's checked answer at once, and Ask comes back."""
    assert page.locator("#ask").is_visible() and not page.locator("#stop").is_visible()
    page.locator("#question textarea").fill("Why is monitoring important for ML products?")
    page.locator("#ask").click()
    page.wait_for_selector("#stop", state="visible")
    assert not page.locator("#ask").is_visible()
    # Enter while the answer runs asks nothing, and says so; the next question stays in the box.
    box = page.locator("#question textarea")
    box.fill("What is a lantern review?")
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('#busy-note').innerText.includes('Still answering')",
                           timeout=10_000)
    assert box.input_value() == "What is a lantern review?"
    page.wait_for_function(
        """() => [...document.querySelectorAll('#chat .pm-pending')]
                   .some(p => p.innerText.includes('Checking this draft'))""", timeout=ANSWER_TIMEOUT_MS)
    like = page.locator("#chat .message-buttons").last.locator("button[aria-label=Like]")
    assert like.count() == 1 and not like.is_visible()  # no thumbs under a draft
    page.locator("#stop").click()
    page.wait_for_selector("#chat [data-testid=bot] .pm-sources", timeout=60_000)
    answer = page.locator("#chat [data-testid=bot]").last
    assert like.is_visible()
    assert "You stopped the second reading" in answer.inner_text()
    assert answer.locator(".pm-cite").count() >= 1 and answer.locator(".pm-pending").count() == 0
    page.wait_for_selector("#ask", state="visible")
    assert not page.locator("#stop").is_visible()
    assert page.locator("#busy-note").inner_text().strip() == ""
    assert page.locator("#chat [data-testid=user]").count() == 1 and box.input_value() == "What is a lantern review?"


def test_off_topic_question_shows_nearest_passages_without_the_llm(page):
    t0 = time.perf_counter()
    answer = ask(page, "What is the boiling point of mercury in kelvin?")
    seconds = time.perf_counter() - t0
    assert "don't cover" in answer.inner_text()
    assert "Nearest passages" in answer.locator(".pm-sources").inner_text()
    assert answer.locator(".pm-source").count() >= 1
    assert answer.locator(".pm-cite").count() == 0
    page.locator("#settings").get_by_text("Settings and debug").click()
    page.locator("#debug").get_by_text("LLM not called").wait_for()
    assert seconds < 30, f"a refusal took {seconds:.0f} s; it should not wait for the LLM"
    # Asking nothing warns in a toast and leaves the chat in view (an error would cover it).
    page.locator("#question textarea").fill("  ")
    page.locator("#ask").click()
    page.get_by_text("Type a question about the articles first.").first.wait_for()
    time.sleep(1)
    assert page.locator(".error", has_text="Error").count() == 0  # no error badge over the outputs
    assert page.locator("#chat [data-testid=bot]").last.inner_text() == answer.inner_text()
    assert page.locator("#chat .pm-source").first.is_visible()
