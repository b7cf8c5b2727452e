"""A phone (Chromium at 390 px) pairs with the real app through a real relay, and chats:
streaming, stop, and a reply that survives the relay restarting mid-stream."""

from __future__ import annotations

import contextlib
import json
import re
import time

import pytest
from playwright.sync_api import expect

from backend.core.remote.channel import unb64url
from tests.browser_support import screenshot
from tests.recording_relay import RecordingRelay
from tests.remote_phone import parse_pair_url

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def wait_online(app) -> None:
    deadline = time.monotonic() + 20
    while app.get("api/remote")["state"] != "online":
        assert time.monotonic() < deadline, "the app never reached the relay"
        time.sleep(0.05)


def assistant(page, nth: int):
    return page.locator(".message.assistant").nth(nth)


def wait_partial(page, nth: int, full: str) -> None:
    """Until the reply shows some of its text but not all: it is streaming."""
    deadline = time.monotonic() + 20
    while not 0 < len(assistant(page, nth).text_content() or "") < len(full):
        assert time.monotonic() < deadline, "the reply never showed part of its text"
        page.wait_for_timeout(20)


def wait_text(page, nth: int, text: str) -> None:
    expect(assistant(page, nth)).to_have_text(text, timeout=30_000)
    assert assistant(page, nth).text_content() == text


@pytest.fixture
def recording_relay(tmp_path):
    relay = RecordingRelay(tmp_path / "relay.log").start()
    yield relay
    relay.stop()


def test_pair_approve_chat_stop_and_resume_after_a_relay_restart(
    browser, recording_relay, headless_app, fake_ollama
):
    relay = recording_relay
    app = headless_app("--relay-url", relay.url)
    wait_online(app)
    pairing = app.request("POST", "api/remote/pairings")
    assert pairing.status_code == 201
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(pairing.json()["pair_url"])
    assert "#" not in page.url  # the secrets leave the address bar at once
    page.fill("#device-name", "Test phone")
    page.click("#pair-button")
    expect(page.locator("#short-code")).to_have_text(re.compile(r"^\d{6}$"))
    code = page.text_content("#short-code")
    [device] = app.get("api/remote/devices")["devices"]
    assert (device["name"], device["state"], device["short_code"]) == (
        "Test phone",
        "pending",
        code,
    )
    assert app.request("POST", f"api/remote/devices/{device['id']}/approve").status_code == 200
    page.wait_for_selector("#chat-view:not([hidden])")
    expect(page.locator("#state")).to_have_text("Connected")

    full = "".join(fake_ollama.reply_tokens())
    fake_ollama.token_delay = 0.05
    page.fill("#prompt", "Why is the sky blue?")
    page.click("#send")
    wait_partial(page, 0, full)
    wait_text(page, 0, full)
    page.wait_for_selector("#conversations option:nth-child(2)", state="attached")

    fake_ollama.token_delay = 0.2
    page.fill("#prompt", "Again, slowly")
    page.click("#send")
    wait_partial(page, 1, full)
    page.click("#stop")
    page.wait_for_selector(".message.assistant.cancelled")
    assert len(assistant(page, 1).text_content()) < len(full)

    fake_ollama.token_delay = 0.1
    page.fill("#prompt", "Once more")
    page.click("#send")
    wait_partial(page, 2, full)
    relay.stop()
    expect(page.locator("#state")).not_to_have_text("Connected")
    relay.start()  # on the same port
    wait_text(page, 2, full)  # every token once, in order, across the restart
    expect(page.locator("#state")).to_have_text("Connected")
    conversation_id = page.eval_on_selector("#conversations", "el => el.value")
    stored = app.conversation(conversation_id)["messages"]
    assert [m["status"] for m in stored if m["role"] == "assistant"] == [
        "complete",
        "cancelled",
        "complete",
    ]
    screenshot(page, "remote-phone-chat.png")

    page.goto(pairing.json()["pair_url"])  # the used link again: the pairing kept stands
    expect(page.locator("#state")).to_have_text("Connected")
    expect(page.locator("#conversations option")).to_have_count(2)  # "New chat" and ours
    titles = [c["title"] for c in app.get("api/conversations")["conversations"]]
    assert app.stop() == 0  # the desktop goes away: the phone says so
    expect(page.locator("#state")).to_have_text("Your desktop is offline or asleep")
    assert_installable(context, page)
    context.close()
    secrets = [parse_pair_url(pairing.json()["pair_url"])["s"], app.token]
    words = ["Why is the sky blue", "Again, slowly", "Once more", "Rayleigh", "wavelengths"]
    models = [m["name"] for m in fake_ollama.models]
    assert_relay_learned_nothing(relay, [*titles, *secrets, *words, *models, "Test phone"])


def assert_installable(context, page) -> None:
    """Chromium finds the page installable as an app (a test browser is always incognito)."""
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert {e["errorId"] for e in errors} <= {"in-incognito"}, errors


def assert_relay_learned_nothing(relay: RecordingRelay, needles: list[str]) -> None:
    """Search every message and request the relay saw, and every `data` payload decoded."""
    haystacks = [*relay.seen, relay.log_path.read_text()]
    for message in relay.seen:
        try:
            data = json.loads(message).get("data")
        except (ValueError, AttributeError):
            continue
        if isinstance(data, str):
            haystacks.append(data)
            with contextlib.suppress(Exception):
                haystacks.append(unb64url(data).decode("latin-1"))
    assert len(relay.seen) > 100  # it did carry the whole session
    for needle in needles:
        assert needle and not any(needle in hay for hay in haystacks), needle
