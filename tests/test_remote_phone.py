"""A phone (Chromium at 390 px) pairs with the real app through a real relay, then chats in
the desktop's own UI through the tunnel: streamed Markdown, stop, and a reply that survives
the relay restarting mid-stream."""

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


# Markdown to render, and markup that must stay inert on the phone as on the desktop.
REPLY = [
    "Blue light **scatters** ",
    "more:\n\n",
    "- Rayleigh\n",
    "- short wavelengths\n\n",
    '<img src="x" onerror="window.pwned = 1">',
]


def wait_online(app) -> None:
    deadline = time.monotonic() + 20
    while app.get("api/remote")["state"] != "online":
        assert time.monotonic() < deadline, "the app never reached the relay"
        time.sleep(0.05)


def assistant(page, nth: int):
    return page.locator('[data-role="assistant"]').nth(nth)


def send(page, text: str) -> None:
    page.fill('[data-testid="composer-input"]', text)
    page.click('[data-testid="send-button"]')


def wait_partial(page, nth: int) -> None:
    """Until the reply shows its first words while still streaming."""
    reply = assistant(page, nth)
    expect(reply).to_have_attribute("data-status", "streaming", timeout=20_000)
    expect(reply).to_contain_text("Blue light", timeout=20_000)
    assert reply.get_attribute("data-status") == "streaming"


def assert_rendered(page, nth: int) -> None:
    """The whole reply, once, rendered as Markdown and sanitised."""
    reply = assistant(page, nth)
    expect(reply).to_have_attribute("data-status", "complete", timeout=30_000)
    assert reply.locator("strong").all_text_contents() == ["scatters"]
    assert reply.locator("li").all_text_contents() == ["Rayleigh", "short wavelengths"]
    assert reply.locator("img[onerror]").count() == 0
    assert page.evaluate("window.pwned") is None


@pytest.fixture
def recording_relay(tmp_path):
    relay = RecordingRelay(tmp_path / "relay.log").start()
    yield relay
    relay.stop()


def test_pair_approve_then_the_desktop_ui_chats_stops_and_resumes_after_a_relay_restart(
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
    # Approved: the desktop's own UI, its socket open through the tunnel.
    expect(page).to_have_url(re.compile(r"/app/$"))
    expect(page.locator("body")).to_have_attribute("data-ws", "open")

    fake_ollama.tokens = REPLY
    fake_ollama.token_delay = 0.05
    send(page, "Why is the sky blue?")
    wait_partial(page, 0)
    assert_rendered(page, 0)
    expect(page.locator('[data-testid="conversation-list"] li')).to_have_count(1)

    fake_ollama.token_delay = 0.2
    send(page, "Again, slowly")
    wait_partial(page, 1)
    page.click('[data-testid="stop-button"]')
    expect(assistant(page, 1)).to_have_attribute("data-status", "cancelled")
    assert assistant(page, 1).locator("li").count() < 2

    fake_ollama.token_delay = 0.1
    send(page, "Once more")
    wait_partial(page, 2)
    relay.stop()
    expect(page.locator("body")).to_have_attribute("data-ws", "closed")
    relay.start()  # on the same port
    expect(page.locator("body")).to_have_attribute("data-ws", "open", timeout=30_000)
    assert_rendered(page, 2)  # every token once, in order, across the restart
    [conversation] = app.get("api/conversations")["conversations"]
    stored = app.conversation(conversation["id"])["messages"]
    replies = [m for m in stored if m["role"] == "assistant"]
    assert [m["status"] for m in replies] == ["complete", "cancelled", "complete"]
    assert replies[2]["content"] == "".join(REPLY)
    screenshot(page, "remote-phone-chat.png")

    page.goto(pairing.json()["pair_url"])  # the used link again: the pairing kept stands
    # The chat open last time is open again, and its address says which (`#/c/<id>`).
    expect(page).to_have_url(re.compile(rf"/app/#/c/{conversation['id']}$"))
    expect(page.locator('[data-testid="conversation-list"] li')).to_have_count(1)
    titles = [c["title"] for c in app.get("api/conversations")["conversations"]]
    assert app.request("DELETE", f"api/remote/devices/{device['id']}").status_code == 204
    # Revoked: the UI hands back to the relay's page, which says so.
    expect(page.locator("#state")).to_have_text("This device is no longer paired")
    assert app.stop() == 0  # the desktop goes away: the relay's page says so
    page.goto(relay.url)
    expect(page.locator("#state")).to_have_text("Your desktop is offline or asleep")
    assert_installable(context, page)
    context.close()
    secrets = [parse_pair_url(pairing.json()["pair_url"])["s"], app.token]
    words = ["Why is the sky blue", "Again, slowly", "Once more", "scatters", "wavelengths"]
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
