"""The UI in Debian's Chromium: streaming, reload, and the connection pill."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium, open_app, screenshot

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_message_streams_in_and_survives_a_reload(browser, runtime, fake_ollama):
    fake_ollama.token_delay = 0.03
    page = open_app(browser, runtime)
    page.get_by_test_id("model-select").select_option("llama3.2:latest")
    box = page.get_by_test_id("composer-input")
    box.fill("Why is the sky blue?")
    box.press("Enter")

    reply = page.locator("[data-testid=message][data-role=assistant]").last
    expect(reply).to_have_attribute("data-status", "streaming")
    expect(page.get_by_test_id("stop-button")).to_be_visible()
    expect(reply.get_by_test_id("message-content")).to_contain_text("Rayleigh")
    screenshot(page, "ui-streaming.png")
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.locator("strong")).to_have_text("Rayleigh scattering")  # Markdown rendered
    expect(reply.get_by_test_id("message-stats")).to_contain_text("tok/s")
    expect(page.get_by_test_id("conversation-item")).to_have_count(1)
    expect(page.get_by_test_id("chat-title")).to_have_text("Why is the sky blue?")
    screenshot(page, "ui-complete.png")

    page.reload()
    page.wait_for_selector("body[data-ws=open]", state="attached")
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("Why is the sky blue?")
    expect(messages.nth(1).locator("strong")).to_have_text("Rayleigh scattering")
    expect(page.get_by_test_id("conversation-item")).to_have_count(1)
    screenshot(page, "ui-after-reload.png")
    page.context.close()


def test_dark_theme_follows_the_system(browser, runtime):
    page = open_app(browser, runtime, color_scheme="dark")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(x) for x in background[background.index("(") + 1 : -1].split(",")[:3])
    assert red + green + blue < 200, background
    screenshot(page, "ui-dark-empty.png")
    page.context.close()


def test_the_pill_counts_down_while_ollama_is_away_and_recovers(browser, runtime, fake_ollama):
    page = open_app(browser, runtime)
    pill = page.get_by_test_id("status-pill")
    expect(pill).to_have_attribute("data-state", "connected")
    fake_ollama.stop()
    requests.post(
        runtime.url + "api/connection/reconnect",
        headers={"Authorization": f"Bearer {runtime.token}"},
        timeout=5,
    )
    expect(pill).to_have_attribute("data-state", "reconnecting")
    expect(pill).to_contain_text("Reconnecting")
    screenshot(page, "ui-reconnecting.png")
    fake_ollama.start()
    pill.click()  # "Retry now"
    expect(pill).to_have_attribute("data-state", "connected", timeout=10_000)
    page.context.close()


def test_hash_new_opens_a_new_chat_instead_of_the_last_one(browser, runtime):
    page = open_app(browser, runtime)
    box = page.get_by_test_id("composer-input")
    box.fill("Remember me")
    box.press("Enter")
    reply = page.locator("[data-testid=message][data-role=assistant]").last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    again = page.context.new_page()  # same storage: it remembers the conversation
    again.goto(f"{runtime.url}?token={runtime.token}")
    again.wait_for_selector("body[data-ready=true]", state="attached")
    expect(again.get_by_test_id("message")).to_have_count(2)
    fresh = page.context.new_page()
    fresh.goto(f"{runtime.url}?token={runtime.token}#new")
    fresh.wait_for_selector("body[data-ready=true]", state="attached")
    expect(fresh.get_by_test_id("message")).to_have_count(0)
    expect(fresh.get_by_test_id("conversation-item")).to_have_count(1)
    assert "#new" not in fresh.url
    page.context.close()


# A second pill, on a copy of the header's element, fed by hand on the page's fake clock:
# the app's own pill keeps the original (and whatever Ollama's real status says).
_PILL_UNDER_TEST = """async (retry) => {
  const { StatusPill } = await import("./js/status.js");
  const original = document.getElementById("status-pill");
  const copy = original.cloneNode(true);
  original.id = "status-pill-of-the-app";
  original.after(copy);
  original.hidden = true;
  copy.dataset.testid = "pill-under-test";
  const pill = new StatusPill({ onReconnect: () => {} });
  pill.setSocketOpen(true);
  pill.setStatus({ state: "reconnecting", endpoint: "http://127.0.0.1:11434",
    error: "Connection refused", reconnect_attempt: 3, next_retry_s: retry });
}"""


def test_the_reconnect_countdown_counts_each_second_down_to_the_retry(browser, runtime):
    context = browser.new_context(viewport={"width": 390, "height": 760}, color_scheme="dark")
    page = context.new_page()
    page.clock.install()
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector("body[data-ws=open]", state="attached", timeout=15_000)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # time moves when the test says
    page.evaluate(_PILL_UNDER_TEST, 2.5)
    pill = page.get_by_test_id("pill-under-test")
    expect(pill).to_have_text("Reconnecting in 3 s")
    screenshot(page, "ui-reconnect-countdown-phone-dark.png")  # a dot; the label is for AT
    page.set_viewport_size({"width": 1180, "height": 760})
    screenshot(page, "ui-reconnect-countdown-dark.png")
    # 2.5 s left: "3" until 2 s are left, then one number a second, then the retry itself.
    seen = []
    for step_ms in (400, 200, 1000, 1000):
        page.clock.run_for(step_ms)
        seen.append(pill.inner_text())
    assert seen == [
        "Reconnecting in 3 s",  # 2.1 s left
        "Reconnecting in 2 s",  # 1.9 s left
        "Reconnecting in 1 s",  # 0.9 s left
        "Reconnecting…",  # due: the retry is under way, no number runs past it
    ]
    context.close()
