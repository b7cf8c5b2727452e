"""A `chunk` that carries both thinking and text (tokens coalesced in time) in Chromium: the
thinking goes to its collapsed block, the text to the reply, while the reply still streams."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import needs_chromium, screenshot
from tests.raw_chat import RawChat
from tests.reliability.hostile_ollama import chat_line, token

pytestmark = needs_chromium

REPLY = "[data-testid=message][data-role=assistant]"
THOUGHT = ["The user", " asks why", " the sky is blue."]
ANSWER = ["Because of **Rayleigh", " scattering**", ": blue light", " scatters most."]


def thought(text: str) -> bytes:
    return chat_line({"role": "assistant", "content": "", "thinking": text})


@pytest.mark.parametrize(
    ("dark", "width"), [(False, 1180), (True, 390)], ids=["light-1180", "dark-390"]
)
def test_thinking_and_text_of_one_chunk_both_show_while_streaming(
    browser, runtime, fake_ollama, dark, width
):
    # One network write: the app reads it at once, and sends it as one chunk with both.
    piece = b"".join([*(thought(t) for t in THOUGHT), *(token(t) for t in ANSWER)])
    fake_ollama.raw_chat = RawChat([piece], end="hang")  # no final frame: chunks alone
    context = browser.new_context(
        viewport={"width": width, "height": 760}, color_scheme="dark" if dark else "light"
    )
    page = context.new_page()
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector("body[data-ws=open]", state="attached", timeout=15_000)
    box = page.get_by_test_id("composer-input")
    box.fill("Why is the sky blue?")
    box.press("Enter")

    reply = page.locator(REPLY).last
    expect(reply.get_by_test_id("message-content")).to_have_text(
        "Because of Rayleigh scattering: blue light scatters most.", timeout=15_000
    )
    expect(reply.get_by_test_id("message-content").locator("strong")).to_have_text(
        "Rayleigh scattering"
    )
    expect(reply).to_have_attribute("data-status", "streaming")
    thinking = reply.get_by_test_id("thinking")
    thinking.locator("summary").click()
    expect(thinking.get_by_test_id("thinking-body")).to_have_text(
        "The user asks why the sky is blue."
    )
    screenshot(page, f"coalesced-chunk-{'dark' if dark else 'light'}-{width}.png")

    page.get_by_test_id("stop-button").click()
    expect(reply).to_have_attribute("data-status", "cancelled", timeout=15_000)
    expect(reply.get_by_test_id("message-content")).to_contain_text("blue light scatters most.")
    fake_ollama.raw_chat = None
    context.close()
