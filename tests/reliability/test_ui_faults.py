"""Items 1 and 2 as the user sees them: after a crash the cut-off reply is shown and can be
written again; each Ollama fault is explained on the reply it broke."""

from __future__ import annotations

import pytest

from tests.browser_support import screenshot
from tests.fake_ollama import STREAM_ERROR
from tests.reliability.support import chat_send, token_text

pytestmark = pytest.mark.browser

ASSISTANT = "[data-testid=message][data-role=assistant]"


def test_after_kill_9_the_ui_shows_the_partial_reply_and_regenerates_it(
    launch, fake_ollama, open_ui
):
    fake_ollama.token_count, fake_ollama.token_delay = 300, 0.01
    app = launch()
    ws = app.ws()
    chat_send(ws, "Tell me everything")
    ws.recv_until(lambda f: f["type"] == "chunk" and f["seq"] >= 60)  # over 0.5 s of text
    app.kill9()

    again = launch()
    page = open_ui(again)
    page.get_by_test_id("conversation-open").first.click()
    cut = page.locator(f"{ASSISTANT}[data-status=interrupted]")
    cut.wait_for(timeout=10000)
    shown = cut.get_by_test_id("message-content").inner_text()
    assert shown.startswith("tok0 tok1 tok2") and len(shown) < len(token_text(300))
    assert "Interrupted" in cut.get_by_test_id("message-note").inner_text()
    offer = cut.get_by_test_id("note-regenerate")
    assert offer.is_visible()
    screenshot(page, "interrupted-reply.png")

    fake_ollama.token_delay = 0.0
    offer.click()
    done = page.locator(f"{ASSISTANT}[data-status=complete]")
    done.wait_for(timeout=10000)
    assert done.get_by_test_id("message-content").inner_text().strip() == token_text(300).strip()


FAULTS = [
    ({"http_error": (500, "llama runner process has terminated")}, 0, "llama runner"),
    ({"http_error": (503, "server busy, please try again")}, 0, "server busy"),
    ({"http_error": (404, "model 'qwen3:8b' not found")}, 0, "not found"),
    ({"error_after": 4}, 4, STREAM_ERROR),
    ({"cut_after": 4}, 4, "lost"),
    ({"malformed_after": 4}, 4, "not a JSON object"),
    ({"omit_done": True}, 8, "ended without"),
]


def send_from_ui(page, text: str):
    """Type and send a message; the reply it gets, once it has failed."""
    failed = page.locator(f"{ASSISTANT}[data-status=error]")
    before = failed.count()
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-role=assistant][data-status=error]').length > n",
        arg=before,
        timeout=15000,
    )
    reply = failed.nth(before)
    # Off-screen messages are not laid out (content-visibility), and inner_text reads the
    # layout: read the reply as the user would, in view (the list follows it a frame later).
    reply.scroll_into_view_if_needed()
    return reply


def test_each_ollama_fault_is_explained_on_its_reply(launch, fake_ollama, open_ui):
    app = launch()
    page = open_ui(app)
    fake_ollama.token_count = 8
    for switches, kept, words in FAULTS:
        for name, value in switches.items():
            setattr(fake_ollama, name, value)
        reply = send_from_ui(page, f"try {next(iter(switches))}")
        fake_ollama.reset()
        fake_ollama.token_count = 8
        note = reply.get_by_test_id("message-note").inner_text()
        assert words.lower() in note.lower(), (switches, note)
        shown = reply.get_by_test_id("message-content").inner_text().strip()
        assert shown == token_text(kept).strip(), (switches, shown)
    screenshot(page, "ollama-faults.png")

    fake_ollama.stop()
    reply = send_from_ui(page, "is anyone there?")
    assert "isn't running" in reply.get_by_test_id("message-note").inner_text()
    pill = page.get_by_test_id("status-pill")
    page.wait_for_function(
        "el => el.dataset.state !== 'connected'", arg=pill.element_handle(), timeout=5000
    )
    fake_ollama.start()
    page.wait_for_function(
        "el => el.dataset.state === 'connected'", arg=pill.element_handle(), timeout=10000
    )
