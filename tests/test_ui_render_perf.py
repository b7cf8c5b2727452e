"""Long replies and long conversations in Debian's Chromium: what the rendering shortcuts
(content-visibility, newest messages first, elements kept across reloads) must not change.
Behaviour only: no timings are asserted."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import ARTIFACTS, needs_chromium, open_app

pytestmark = [pytest.mark.browser, needs_chromium]
MODEL = "llama3.2:latest"
REPLY = "[data-testid=message][data-role=assistant]"
MESSAGE = "[data-testid=message]"
LONG = "A long conversation"

# Distance from the bottom of the message list, and whether the jump button is hidden.
BOTTOM_GAP = """() => {
  const s = document.getElementById("messages");
  return s.scrollHeight - s.scrollTop - s.clientHeight;
}"""

# Every 10 ms while the newest reply streams: whether the jump button is hidden (the list
# still follows the reply) and how tall the list is against the screen.
SAMPLE_WHILE_STREAMING = """() => {
  window.__samples = [];
  const s = document.getElementById("messages");
  const jump = document.getElementById("jump-latest");
  const timer = setInterval(() => {
    const reply = document.querySelector("#messages-inner > article.assistant:last-child");
    if (!reply) return;
    if (reply.dataset.status !== "streaming") {
      if (window.__samples.length) clearInterval(timer);
      return;
    }
    window.__samples.push([jump.hidden, s.scrollHeight / s.clientHeight]);
  }, 10);
}"""


def long_reply(sections: int, tag: str = "") -> str:
    """Markdown as a model writes it: headings, paragraphs, lists and code blocks."""
    parts = []
    for i in range(sections):
        words = " ".join(f"word{tag}{i}_{j}" for j in range(40))
        code = "".join(f"    total_{j} = compute(item_{j}, limit={i * j})\n" for j in range(14))
        parts += [
            f"## Part {tag}{i}\n\n",
            f"Paragraph {tag}{i}: {words}.\n\n",
            f"- first point of part {i}\n- second point of part {i}\n\n",
            f"```python\ndef part_{i}():\n{code}```\n\n",
        ]
    return "".join(parts)


def as_tokens(text: str, size: int = 48) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def open_page(browser, runtime, *, dark: bool = False):
    page = open_app(browser, runtime, color_scheme="dark" if dark else "light")
    page.get_by_test_id("model-select").select_option(MODEL)
    return page


def send(page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def seed_long(runtime, exchanges: int) -> list[dict]:
    """A conversation of `exchanges` questions and Markdown replies, through the import API."""
    messages = []
    for i in range(exchanges):
        messages.append({"role": "user", "content": f"Question {i}: how does part {i} work?"})
        extra = "The zebracorn rule applies here.\n\n" if i == 2 else ""
        reply = f"Answer {i}.\n\n{extra}" + long_reply(1, str(i))
        messages.append({"role": "assistant", "content": reply})
    document = {
        "format": "cloudtolocalllm-export",
        "version": 1,
        "conversations": [
            {"title": LONG, "updated_at": "2026-03-03T10:00:00Z", "messages": messages}
        ],
    }
    response = requests.post(
        runtime.url + "api/import",
        data=json.dumps(document),
        headers={"Authorization": f"Bearer {runtime.token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return messages


def test_a_long_reply_is_followed_to_its_end(browser, runtime, fake_ollama):
    fake_ollama.tokens = as_tokens(long_reply(24))
    fake_ollama.token_delay = 0.002
    page = open_page(browser, runtime)
    page.evaluate(SAMPLE_WHILE_STREAMING)
    send(page, "Write the long guide")
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)

    samples = page.evaluate("window.__samples")
    tall = [hidden for hidden, height in samples if height > 1.5]  # taller than the screen
    assert len(tall) >= 10, samples
    assert all(tall), samples  # it never stopped following
    assert page.evaluate(BOTTOM_GAP) < 2
    # The end of the reply is drawn, not a placeholder of an estimated height.
    last_code = reply.locator(".code-block pre").last
    assert last_code.evaluate("(e) => e.checkVisibility({ contentVisibilityAuto: true })")
    expect(last_code).to_be_in_viewport()
    expect(page.locator("#jump-latest")).to_be_hidden()
    page.context.close()


def test_reading_above_a_streaming_reply_keeps_the_view_still(browser, runtime, fake_ollama):
    fake_ollama.tokens = as_tokens(long_reply(32))
    fake_ollama.token_delay = 0.002
    page = open_page(browser, runtime)
    send(page, "Write the long guide")
    reply = page.locator(REPLY).last
    code_blocks = reply.locator(".code-block")
    expect(code_blocks.nth(12)).to_be_attached(timeout=45_000)

    page.locator("#messages").hover()
    page.evaluate(
        """() => (window.__scrolled = new Promise((r) => document.getElementById("messages")
              .addEventListener("scrollend", () => r(true), { once: true })))"""
    )
    page.mouse.wheel(0, -1600)  # the reader scrolls up, into blocks drawn by the dozen
    jump = page.locator("#jump-latest")
    expect(jump).to_be_visible()
    # The block at the middle of the screen, and where it is, once the wheel has settled.
    watch = """() => {
      const s = document.getElementById("messages").getBoundingClientRect();
      const middle = s.top + s.height / 2;
      const reply = document.querySelector("#messages-inner > article:last-child");
      const blocks = reply.querySelectorAll(".markdown > .md-section > *");
      const block = [...blocks].find((b) => b.getBoundingClientRect().bottom > middle);
      if (!block) return null;
      block.dataset.watch = "yes";
      return block.getBoundingClientRect().top;
    }"""
    page.evaluate("() => window.__scrolled")
    top = page.evaluate(watch)
    assert top is not None
    blocks = code_blocks.count()
    expect(code_blocks.nth(blocks + 6)).to_be_attached(timeout=45_000)  # the reply grew

    watched = page.locator("[data-watch=yes]")
    assert abs(watched.evaluate("(e) => e.getBoundingClientRect().top") - top) < 1
    expect(jump).to_be_visible()
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    assert abs(watched.evaluate("(e) => e.getBoundingClientRect().top") - top) < 1
    jump.click()
    page.wait_for_function(f"() => ({BOTTOM_GAP})() < 2")
    expect(jump).to_be_hidden()
    page.context.close()


def test_a_long_conversation_shows_its_newest_messages_first_then_all(browser, runtime):
    messages = seed_long(runtime, 150)
    page = open_page(browser, runtime)
    # Which messages each change of the list brought, in order.
    page.evaluate(
        """() => {
          window.__batches = [];
          new MutationObserver((records) => {
            const ids = records
              .flatMap((r) => [...r.addedNodes])
              .filter((n) => n.matches && n.matches("article.message"))
              .map((n) => n.querySelector("[data-testid=message-content]").textContent);
            if (ids.length) window.__batches.push(ids);
          }).observe(document.getElementById("messages-inner"), { childList: true });
        }"""
    )
    page.get_by_test_id("conversation-title").filter(has_text=LONG).click()
    shown = page.locator(MESSAGE)
    expect(shown).to_have_count(len(messages), timeout=15_000)

    batches = page.evaluate("window.__batches")
    first = batches[0]
    assert any(t.startswith("Answer 149.") for t in first), first
    assert not any(t.startswith("Question 0:") for t in first), first
    # All of them, in order, each drawn once.
    texts = shown.evaluate_all(
        "(ms) => ms.map((m) => m.querySelector('[data-testid=message-content]').textContent)"
    )
    assert [t.split(":")[0].split(".")[0] for t in texts] == [
        m["content"].split(":")[0].split(".")[0] for m in messages
    ]
    assert sum(len(b) for b in batches) == len(messages)
    # Each reply drawn later is the same DOM as one rendered at once from its Markdown.
    same = page.evaluate(
        """async (sources) => {
          const { renderMarkdown } = await import("/js/render.js");
          const bodies = document.querySelectorAll("#messages-inner article.assistant .markdown");
          return [...bodies].every((body, i) => {
            const fresh = document.createElement("div");
            renderMarkdown(fresh, sources[i]);
            return fresh.innerHTML === body.innerHTML;
          });
        }""",
        [m["content"] for m in messages if m["role"] == "assistant"],
    )
    assert same
    assert page.evaluate(BOTTOM_GAP) < 2  # still at the newest message
    expect(page.locator("#jump-latest")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(
            path=str(ARTIFACTS / f"long-conversation-{scheme}.png"), animations="disabled"
        )
    page.context.close()


def test_a_search_hit_among_messages_not_drawn_yet_is_shown(browser, runtime):
    seed_long(runtime, 150)
    page = open_page(browser, runtime)
    page.keyboard.press("Control+k")
    box = page.get_by_test_id("conversation-search")
    box.type("zebracorn")  # in the third reply only, among the oldest messages
    results = page.get_by_test_id("search-result")
    expect(results.first).to_have_attribute("data-match", "message")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.get_by_test_id("chat-title")).to_have_text(LONG)
    hit = page.locator(REPLY).filter(has_text="Answer 2.").first
    expect(hit).to_have_class(re.compile(r"\bsearch-hit\b"))
    expect(hit).to_be_in_viewport()
    expect(page.locator(MESSAGE)).to_have_count(300)
    page.context.close()


def test_a_finished_reply_leaves_the_other_messages_in_place(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    for text in ("one", "two"):
        send(page, text)
        expect(page.locator(REPLY)).to_have_count(1 if text == "one" else 2)
        expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete")
    old = page.locator(REPLY).last.get_attribute("data-message-id")
    page.evaluate(
        """() => {
          window.__removed = [];
          new MutationObserver((records) => {
            for (const r of records) for (const n of r.removedNodes) {
              if (n.dataset) window.__removed.push(n.dataset.messageId || "?");
            }
          }).observe(document.getElementById("messages-inner"), { childList: true });
        }"""
    )
    page.locator(REPLY).last.get_by_test_id("message-regenerate").click()
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    # The pager comes with the conversation read again after the reply: it has been drawn.
    expect(reply.get_by_test_id("branch-pager")).to_have_text("2 / 2")
    assert page.evaluate("window.__removed") == [old]  # only the version it replaced
    page.context.close()


def test_a_reference_defined_at_the_end_links_once_it_is_done(browser, runtime, fake_ollama):
    text = "See [the guide][g] first.\n\nThen the rest.\n\n[g]: https://example.com/guide\n"
    fake_ollama.tokens = as_tokens(text, 6)
    page = open_page(browser, runtime)
    send(page, "Where do I start?")
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    link = reply.get_by_test_id("message-content").locator("a")
    expect(link).to_have_attribute("href", "https://example.com/guide")
    expect(link).to_have_text("the guide")
    expect(reply.get_by_test_id("message-content")).not_to_contain_text("[g]")
    page.context.close()
