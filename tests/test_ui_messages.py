"""Message-level UI in Debian's Chromium: actions, branches, stop/redo, thinking, context,
per-conversation settings and live titles, against the real backend and the fake Ollama."""
# Over 300 lines on purpose: one browser session per message behaviour, sharing page helpers.

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium, screenshot
from tests.fake_ollama import STREAM_ERROR

pytestmark = [pytest.mark.browser, needs_chromium]
MODEL = "llama3.2:latest"
REPLY = "[data-testid=message][data-role=assistant]"
USER = "[data-testid=message][data-role=user]"


def open_page(browser, runtime, *, dark: bool = False, clipboard: bool = False):
    context = browser.new_context(
        viewport={"width": 1180, "height": 760},
        color_scheme="dark" if dark else "light",
        permissions=["clipboard-read", "clipboard-write"] if clipboard else [],
    )
    page = context.new_page()
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector("body[data-ws=open]", state="attached", timeout=15_000)
    page.get_by_test_id("model-select").select_option(MODEL)
    return page


def ask(page, text: str, *, status: str = "complete"):
    """Send a message and wait for its reply to end; returns the reply's locator."""
    replies = page.locator(REPLY)
    count = replies.count()
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")
    expect(replies).to_have_count(count + 1)
    expect(replies.last).to_have_attribute("data-status", status, timeout=15_000)
    return replies.last


def api(runtime, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    return requests.request(method, runtime.url + path, headers=headers, timeout=5, **kwargs)


def streamed(fake_ollama) -> list[dict]:
    """The streamed /api/chat requests (title requests are not streamed)."""
    return [r for r in fake_ollama.chat_requests if r.get("stream", True)]


def test_regenerate_adds_a_version_and_the_pager_switches_back(browser, runtime, fake_ollama):
    fake_ollama.tokens = ["First", " answer."]
    page = open_page(browser, runtime)
    ask(page, "Name a colour")
    fake_ollama.tokens = ["Second", " answer", " is", " **blue**."]
    fake_ollama.token_delay = 0.02
    page.locator(REPLY).last.get_by_test_id("message-regenerate").click()

    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "streaming")  # streams in place
    expect(page.locator(REPLY)).to_have_count(1)
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.get_by_test_id("message-content")).to_have_text("Second answer is blue.")
    pager = reply.get_by_test_id("branch-pager")
    expect(pager).to_have_text("2 / 2")
    page.get_by_test_id("composer-input").focus()
    screenshot(page, "messages-pager-light.png")

    reply.get_by_test_id("branch-prev").click()
    reply = page.locator(REPLY).last
    expect(reply.get_by_test_id("branch-pager")).to_have_text("1 / 2")
    expect(reply.get_by_test_id("message-content")).to_have_text("First answer.")
    expect(reply.get_by_test_id("branch-prev")).to_be_disabled()

    page.reload()  # the choice is stored: the first version stays shown
    expect(page.locator(REPLY).last.get_by_test_id("message-content")).to_have_text("First answer.")
    page.context.close()


def test_pager_and_actions_in_the_dark(browser, runtime, fake_ollama):
    page = open_page(browser, runtime, dark=True)
    ask(page, "Why is the sky blue?")
    page.locator(REPLY).last.get_by_test_id("message-regenerate").click()
    reply = page.locator(REPLY).last
    expect(reply.get_by_test_id("branch-pager")).to_have_text("2 / 2", timeout=15_000)
    page.locator(USER).last.hover()
    page.wait_for_timeout(300)  # the toolbar fades in
    screenshot(page, "messages-pager-dark.png")
    page.context.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_editing_a_message_streams_a_new_branch(browser, runtime, fake_ollama, dark):
    page = open_page(browser, runtime, dark=dark)
    ask(page, "Tell me about cats")
    user = page.locator(USER).last
    user.hover()
    user.get_by_test_id("message-edit").click()
    editor = page.get_by_test_id("edit-input")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Tell me about cats")
    editor.fill("Tell me about dogs\nin two lines")
    screenshot(page, f"messages-edit-{'dark' if dark else 'light'}.png")
    fake_ollama.tokens = ["Dogs", " are", " loyal", " and", " playful."]
    fake_ollama.token_delay = 0.05
    page.get_by_test_id("edit-save").click()

    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "streaming")
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    user = page.locator(USER).last
    edited = "Tell me about dogs\nin two lines"
    expect(user.get_by_test_id("message-content")).to_have_text(edited)
    expect(user.get_by_test_id("branch-pager")).to_have_text("2 / 2")
    assert streamed(fake_ollama)[-1]["messages"][-1]["content"] == edited

    user.get_by_test_id("branch-prev").click()
    expect(page.locator(USER).last.get_by_test_id("message-content")).to_have_text(
        "Tell me about cats"
    )
    expect(page.locator(REPLY)).to_have_count(1)  # the first branch's reply comes back with it
    page.context.close()


def test_up_edits_the_last_message_and_esc_cancels(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    ask(page, "first question")
    ask(page, "second question")
    page.get_by_test_id("composer-input").press("ArrowUp")
    editor = page.get_by_test_id("edit-input")
    expect(editor).to_have_value("second question")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(page.locator(USER).last.get_by_test_id("message-content")).to_have_text(
        "second question"
    )
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    assert len(streamed(fake_ollama)) == 2  # Esc sent nothing
    page.context.close()


def test_actions_are_named_and_work_from_the_keyboard(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    ask(page, "Hello")
    regenerate = page.locator(REPLY).last.get_by_test_id("message-regenerate")
    expect(regenerate).to_be_attached()
    buttons = page.locator("#messages-inner button")
    names = buttons.evaluate_all("(bs) => bs.map((b) => b.getAttribute('aria-label'))")
    assert len(names) >= 5 and all(names), names
    page.get_by_test_id("composer-input").focus()
    for _ in range(12):  # Shift+Tab back from the composer into the last reply's toolbar
        page.keyboard.press("Shift+Tab")
        if regenerate.evaluate("(b) => b === document.activeElement"):
            break
    expect(regenerate).to_be_focused()
    # Shown on focus: a 0.12 s fade, so polled until it has run its course.
    expect(regenerate).to_have_css("opacity", "1")
    page.keyboard.press("Enter")
    expect(page.locator(REPLY).last.get_by_test_id("branch-pager")).to_have_text(
        "2 / 2", timeout=15_000
    )
    page.context.close()


def test_copy_puts_the_raw_markdown_on_the_clipboard(browser, runtime, fake_ollama):
    page = open_page(browser, runtime, clipboard=True)
    reply = ask(page, "Why is the sky blue?")
    reply.get_by_test_id("message-copy").click()
    expect(reply.get_by_test_id("copied")).to_have_text("Copied")
    expect(page.get_by_test_id("announcer")).to_have_text("Copied to the clipboard")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == "".join(fake_ollama.tokens)
    assert "**Rayleigh scattering**" in copied  # Markdown, not the rendered text
    page.context.close()


def test_deleting_messages_asks_first_and_sticks(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    ask(page, "one")
    ask(page, "two")
    reply = page.locator(REPLY).last
    reply.get_by_test_id("message-delete").click()
    reply.get_by_test_id("message-delete-cancel").click()  # changed my mind
    expect(page.locator(REPLY)).to_have_count(2)

    reply.get_by_test_id("message-delete").click()
    reply.get_by_test_id("message-delete-confirm").click()
    expect(page.locator(REPLY)).to_have_count(1)
    expect(page.locator(USER)).to_have_count(2)

    first = page.locator(USER).first
    first.hover()
    first.get_by_test_id("message-delete").click()
    expect(first).to_contain_text("Delete this and everything after it?")
    first.get_by_test_id("message-delete-confirm").click()
    expect(page.get_by_test_id("message")).to_have_count(0)
    page.reload()
    page.wait_for_selector("body[data-ws=open]", state="attached")
    expect(page.get_by_test_id("message")).to_have_count(0)
    page.context.close()


@pytest.mark.parametrize("how", ["button", "escape"])
def test_stopping_a_reply_leaves_a_note_and_a_way_to_redo_it(browser, runtime, fake_ollama, how):
    fake_ollama.token_count = 400
    fake_ollama.token_delay = 0.02
    page = open_page(browser, runtime)
    box = page.get_by_test_id("composer-input")
    box.fill("Count slowly")
    box.press("Enter")
    reply = page.locator(REPLY).last
    expect(reply.get_by_test_id("message-content")).to_contain_text("tok1")
    if how == "button":
        page.get_by_test_id("stop-button").click()
    else:
        box.press("Escape")
    expect(reply).to_have_attribute("data-status", "cancelled")
    expect(reply.get_by_test_id("message-note")).to_have_text("Stopped")
    expect(page.get_by_test_id("announcer")).to_have_text("Reply stopped")
    screenshot(page, f"messages-stopped-{how}.png")
    fake_ollama.token_count = None
    fake_ollama.token_delay = 0
    reply.get_by_test_id("note-regenerate").click()
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.get_by_test_id("branch-pager")).to_have_text("2 / 2")
    page.context.close()


def test_an_interrupted_reply_can_be_regenerated_in_one_click(browser, runtime, fake_ollama):
    # A reply that was streaming when the app died is stored as `interrupted` (import does the
    # same to a `streaming` message: nothing is streaming it).
    crashed = {
        "title": "Crashed chat",
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Tell me a story"},
            {"role": "assistant", "content": "Once upon a", "status": "streaming", "model": MODEL},
        ],
    }
    assert api(runtime, "POST", "api/import", json=crashed).status_code == 201
    page = open_page(browser, runtime)
    page.get_by_test_id("conversation-item").first.click()
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "interrupted")
    expect(reply.get_by_test_id("message-note")).to_contain_text("Interrupted")
    expect(reply.get_by_test_id("message-content")).to_have_text("Once upon a")
    screenshot(page, "messages-interrupted.png")
    reply.get_by_test_id("note-regenerate").click()
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.get_by_test_id("message-content")).to_contain_text("Rayleigh")
    assert streamed(fake_ollama)[-1]["messages"][-1]["content"] == "Tell me a story"
    page.context.close()


def test_an_ollama_error_is_shown_as_is_and_retry_regenerates(browser, runtime, fake_ollama):
    fake_ollama.error_after = 3
    page = open_page(browser, runtime)
    reply = ask(page, "Hello", status="error")
    expect(reply.get_by_test_id("message-note")).to_contain_text(STREAM_ERROR)
    retry = reply.get_by_test_id("note-regenerate")
    expect(retry).to_have_text("Retry")
    screenshot(page, "messages-error.png")
    fake_ollama.error_after = None
    retry.click()
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.get_by_test_id("message-note")).to_have_count(0)
    page.context.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_thinking_is_collapsed_while_live_then_says_how_long(browser, runtime, fake_ollama, dark):
    fake_ollama.thinking = ["The user", " asks about", " the sky.", " Rayleigh", " applies."]
    fake_ollama.tokens = [
        "Because of **Rayleigh",
        " scattering**",
        ": blue light",
        " scatters most.",
    ]
    fake_ollama.token_delay = 0.08
    page = open_page(browser, runtime, dark=dark)
    box = page.get_by_test_id("composer-input")
    box.fill("Why is the sky blue?")
    box.press("Enter")
    thinking = page.locator(REPLY).last.get_by_test_id("thinking")
    expect(thinking).to_have_attribute("data-live", "true")
    expect(thinking.get_by_test_id("thinking-label")).to_have_text("Thinking…")
    expect(thinking).not_to_have_attribute("open", "")  # collapsed while streaming
    screenshot(page, f"messages-thinking-live-{'dark' if dark else 'light'}.png")
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(thinking).to_have_attribute("data-live", "false")

    cid = page.evaluate("() => localStorage.getItem('ctl.conversation')").strip('"')
    stored = api(runtime, "GET", f"api/conversations/{cid}").json()["messages"][-1]
    seconds = f"{stored['stats']['thinking_ms'] / 1000:.1f}"
    expect(thinking.get_by_test_id("thinking-label")).to_have_text(f"Thought for {seconds} s")
    thinking.locator("summary").click()
    expect(thinking.get_by_test_id("thinking-body")).to_have_text(
        "The user asks about the sky. Rayleigh applies."
    )
    page.mouse.move(5, 700)
    page.wait_for_timeout(300)  # let the chevron's turn and the hover fade finish
    screenshot(page, f"messages-thinking-{'dark' if dark else 'light'}.png")
    page.context.close()


def test_a_notice_says_when_older_messages_did_not_fit(browser, runtime, fake_ollama):
    created = api(
        runtime, "POST", "api/conversations", json={"model": MODEL, "options": {"num_ctx": 200}}
    )
    assert created.status_code == 201
    page = open_page(browser, runtime)
    page.get_by_test_id("conversation-item").first.click()
    long_text = "Tell me more about light and colour. " * 16  # ~150 tokens by the estimate
    first = ask(page, long_text)
    expect(first.get_by_test_id("context-notice")).to_have_count(0)  # everything fitted
    second = ask(page, long_text)
    notice = second.get_by_test_id("context-notice")
    expect(notice).to_have_text(
        "2 older messages were left out to fit the model's context (num_ctx 200)"
    )
    assert streamed(fake_ollama)[-1]["options"]["num_ctx"] == 200
    assert len(streamed(fake_ollama)[-1]["messages"]) == 1  # what the notice says happened

    # The notice is stored with the reply: it is still there after a reload (phone, dark).
    page.set_viewport_size({"width": 390, "height": 760})
    page.emulate_media(color_scheme="dark")
    page.reload()
    replies = page.locator(REPLY)
    expect(replies).to_have_count(2, timeout=15_000)
    expect(replies.first.get_by_test_id("context-notice")).to_have_count(0)
    expect(replies.last.get_by_test_id("context-notice")).to_have_text(
        "2 older messages were left out to fit the model's context (num_ctx 200)"
    )
    replies.last.get_by_test_id("context-notice").scroll_into_view_if_needed()
    screenshot(page, "messages-context-notice-phone-dark.png")
    page.context.close()


def open_settings(page):
    page.get_by_test_id("chat-settings-button").click()
    panel = page.get_by_test_id("chat-settings")
    expect(panel).to_be_visible()
    return panel


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_chat_settings_are_checked_saved_and_used(browser, runtime, fake_ollama, dark):
    page = open_page(browser, runtime, dark=dark)
    ask(page, "Hello")
    panel = open_settings(page)
    panel.get_by_test_id("chat-settings-system").fill("Answer like a pirate.")
    panel.get_by_test_id("chat-settings-temperature").fill("warm")
    panel.get_by_test_id("chat-settings-top_p").fill("1.5")
    panel.get_by_test_id("chat-settings-num_ctx").fill("8192")
    panel.get_by_test_id("chat-settings-seed").fill("42")
    panel.get_by_test_id("chat-settings-think-on").check(force=True)
    panel.get_by_test_id("chat-settings-model").select_option("qwen3:8b")
    panel.get_by_test_id("chat-settings-num_ctx").fill("0")
    panel.get_by_test_id("chat-settings-save").click()
    # One Save flags every bad field, not only the first; focus goes to the first.
    expect(panel.get_by_test_id("chat-settings-temperature-error")).to_have_text("Enter a number")
    expect(panel.get_by_test_id("chat-settings-top_p-error")).to_have_text(
        "Must be between 0 and 1"
    )
    expect(panel.get_by_test_id("chat-settings-num_ctx-error")).to_have_text("Must be at least 1")
    expect(panel.get_by_test_id("chat-settings-seed-error")).to_be_hidden()
    expect(panel.locator("[aria-invalid=true]")).to_have_count(3)
    expect(panel.get_by_test_id("chat-settings-temperature")).to_be_focused()
    screenshot(page, f"messages-settings-{'dark' if dark else 'light'}.png")
    if dark:
        page.set_viewport_size({"width": 390, "height": 844})
        panel.get_by_test_id("chat-settings-top_p").scroll_into_view_if_needed()
        screenshot(page, "messages-settings-390-dark.png")
        page.set_viewport_size({"width": 1180, "height": 760})

    panel.get_by_test_id("chat-settings-temperature").fill("0.3")
    panel.get_by_test_id("chat-settings-num_ctx").fill("8192")
    panel.get_by_test_id("chat-settings-top_p").fill("")  # empty: the model's default
    expect(panel.get_by_test_id("chat-settings-top_p-error")).to_be_hidden()
    panel.get_by_test_id("chat-settings-save").click()
    expect(panel).to_have_count(0)
    expect(page.get_by_test_id("chat-settings-button")).to_have_attribute("data-custom", "true")

    expect(page.get_by_test_id("model-select")).to_have_value("qwen3:8b")
    ask(page, "Where is the treasure?")
    sent = streamed(fake_ollama)[-1]
    assert sent["model"] == "qwen3:8b"
    assert sent["options"] == {"temperature": 0.3, "num_ctx": 8192, "seed": 42}
    assert sent["think"] is True
    assert sent["messages"][0] == {"role": "system", "content": "Answer like a pirate."}

    panel = open_settings(page)  # it shows what is stored
    expect(panel.get_by_test_id("chat-settings-temperature")).to_have_value("0.3")
    expect(panel.get_by_test_id("chat-settings-top_p")).to_have_value("")
    panel.get_by_test_id("chat-settings-reset").click()
    panel.get_by_test_id("chat-settings-save").click()
    expect(panel).to_have_count(0)
    ask(page, "And now?")
    sent = streamed(fake_ollama)[-1]
    assert "options" not in sent or not sent["options"]
    assert "think" not in sent
    assert sent["messages"][0]["role"] == "user"
    page.context.close()


def test_settings_of_a_new_chat_apply_from_its_first_message(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    panel = open_settings(page)
    panel.get_by_test_id("chat-settings-system").fill("Be brief.")
    panel.get_by_test_id("chat-settings-system").press("Escape")  # Esc closes, saves nothing
    expect(panel).to_have_count(0)
    expect(page.get_by_test_id("conversation-item")).to_have_count(0)

    panel = open_settings(page)
    panel.get_by_test_id("chat-settings-system").fill("Be brief.")
    panel.get_by_test_id("chat-settings-save").click()
    expect(page.get_by_test_id("conversation-item")).to_have_count(1)
    ask(page, "Hi there")
    assert streamed(fake_ollama)[-1]["messages"][0] == {"role": "system", "content": "Be brief."}
    expect(page.get_by_test_id("conversation-item")).to_have_count(1)  # the same conversation
    page.context.close()


def test_a_model_written_title_shows_up_live(browser, runtime, fake_ollama):
    fake_ollama.title_reply = "Blue Sky Physics"
    page = open_page(browser, runtime)
    ask(page, "Why is the sky blue?")
    expect(page.get_by_test_id("chat-title")).to_have_text("Blue Sky Physics")
    expect(page.get_by_test_id("conversation-title")).to_have_text("Blue Sky Physics")
    page.context.close()


def test_a_rename_elsewhere_updates_the_header_and_the_list(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    ask(page, "Why is the sky blue?")
    expect(page.get_by_test_id("announcer")).to_have_text("Reply complete")
    cid = page.evaluate("() => localStorage.getItem('ctl.conversation')").strip('"')
    renamed = api(runtime, "PATCH", f"api/conversations/{cid}", json={"title": "Sky notes"})
    assert renamed.status_code == 200
    expect(page.get_by_test_id("chat-title")).to_have_text("Sky notes")
    expect(page.get_by_test_id("conversation-title")).to_have_text("Sky notes")
    assert page.title() == "Sky notes — CloudToLocalLLM"
    page.context.close()


def test_a_second_window_sees_the_reply_stream_live(browser, runtime, fake_ollama):
    created = api(runtime, "POST", "api/conversations", json={"model": MODEL, "title": "Shared"})
    cid = created.json()["id"]
    # The watching window: a phone in the dark, showing the same conversation.
    phone = browser.new_context(viewport={"width": 390, "height": 760}, color_scheme="dark")
    watcher = phone.new_page()
    received: list[dict] = []
    sent: list[dict] = []
    watcher.on(
        "websocket",
        lambda ws: (
            ws.on("framereceived", lambda data: received.append(json.loads(data))),
            ws.on("framesent", lambda data: sent.append(json.loads(data))),
        ),
    )
    watcher.add_init_script(
        f"localStorage.setItem('ctl.conversation', {json.dumps(json.dumps(cid))})"
    )
    watcher.goto(f"{runtime.url}?token={runtime.token}")
    watcher.wait_for_selector("body[data-ws=open]", state="attached", timeout=15_000)
    expect(watcher.get_by_test_id("chat-title")).to_have_text("Shared")

    sender = open_page(browser, runtime)
    sender.get_by_test_id("conversation-item").first.click()
    fake_ollama.tokens = [f"word{i} " for i in range(60)]
    fake_ollama.token_delay = 0.05  # about 3 s: long enough to be seen mid-stream
    box = sender.get_by_test_id("composer-input")
    box.fill("Count slowly")
    box.press("Enter")

    reply = watcher.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "streaming", timeout=15_000)
    expect(reply.get_by_test_id("message-content")).to_contain_text("word1", timeout=15_000)
    screenshot(watcher, "messages-watch-live-phone-dark.png")
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.get_by_test_id("message-content")).to_contain_text("word59")
    # It came as the reply's own frames, not by reading the store afterwards.
    assert {"type": "conversation.watch", "conversation_id": cid} in [
        {k: f.get(k) for k in ("type", "conversation_id")} for f in sent
    ]
    reply_frames = ("start", "chunk", "complete", "cancelled", "error")
    types = [f["type"] for f in received if f["type"] in reply_frames]
    assert "start" in types and "chunk" in types and types[-1] == "complete"
    phone.close()
    sender.context.close()
