"""Settings, Remote access, in the desktop UI: the link's state, a QR code and link to pair,
a pending device shown with its short code, Approve, and Remove cutting the phone off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import open_app, screenshot
from tests.remote_phone import Phone

pytestmark = pytest.mark.browser
CLOSED_BY_DESKTOP = 4000


def test_pair_approve_and_remove_a_phone_from_settings(browser, remote_runtime):
    page = open_app(browser, remote_runtime)
    page.get_by_test_id("open-settings").click()
    expect(page.get_by_test_id("remote-state")).to_have_text(
        "Online: paired devices can reach this computer"
    )
    expect(page.get_by_test_id("remote-relay-url")).to_have_value(
        remote_runtime.relay.url.rstrip("/")
    )
    page.get_by_test_id("remote-pair").click()
    offer = page.get_by_test_id("remote-offer")
    expect(offer.get_by_role("img", name="QR code to pair a phone")).to_be_visible()
    pair_url = page.get_by_test_id("remote-pair-url").input_value()
    offer.scroll_into_view_if_needed()
    screenshot(page, "remote-settings-qr.png")

    phone = Phone(pair_url).connect()
    code = phone.pair("Kitchen tablet")["code"]
    device = page.get_by_test_id("remote-device")
    expect(device).to_contain_text("Kitchen tablet")
    expect(device).to_contain_text(code)
    expect(offer).to_be_hidden()  # used up by the device
    device.scroll_into_view_if_needed()
    screenshot(page, "remote-settings-pending.png")
    device.get_by_role("button", name="Approve").click()
    assert phone.recv() == {"type": "pair.approved"}
    expect(device).to_have_attribute("data-state", "approved")
    device.get_by_role("button", name="Remove").click()
    assert phone.closed_code() == CLOSED_BY_DESKTOP
    expect(page.get_by_test_id("remote-device")).to_have_count(0)


def test_the_status_pill_follows_remote_access(browser, remote_runtime):
    page = open_app(browser, remote_runtime)
    pill, remote = page.get_by_test_id("status-pill"), page.get_by_test_id("status-remote")
    expect(pill).to_have_attribute("data-remote", "online")  # read at start
    expect(remote).to_have_text("Remote: online")
    expect(pill).to_have_attribute("title", re.compile(r"· Remote: online$"))
    screenshot(page, "remote-status-pill.png")
    assert remote_runtime.relay.stop() == 0  # the relay goes away: a remote.changed frame
    expect(pill).to_have_attribute("data-remote", re.compile(r"^(offline|connecting)$"))
    expect(remote).to_have_text(re.compile(r"^Remote: (relay unreachable|connecting…)$"))
    page.get_by_test_id("open-settings").click()
    page.get_by_test_id("remote-relay-url").fill("")
    page.get_by_test_id("remote-apply").click()
    expect(pill).to_have_attribute("data-remote", "off")
    expect(remote).to_be_hidden()
