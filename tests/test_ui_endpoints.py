"""Settings' Model servers in Debian's Chromium, against a real FakeOpenAI beside the fake
Ollama: adding a server (its key never shown back), a bad address refused inline, its models
grouped in the picker, a chat with one of them streaming a reply, and the section on a phone
and a desktop, light and dark, with no serious axe-core violation. Screenshots land in
test-artifacts/ (people look at them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.fake_openai import FakeOpenAI
from tests.test_ui_layout import AXE_RUN, SCREENS, open_page, shot

pytestmark = [pytest.mark.browser, needs_chromium]

KEY = "sk-local-3b9f"
MODEL = "qwen2.5-7b-instruct"


@pytest.fixture
def lm_studio() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.api_key = KEY
        fake.models = [MODEL]
        fake.tokens = ["Hello ", "from ", "**LM Studio**", "."]
        yield fake


def open_settings(page) -> None:
    page.evaluate("window.__app.openSettings()")
    expect(page.get_by_test_id("settings-endpoints")).to_be_visible()


def fill_endpoint(page, name: str, url: str, key: str = "") -> None:
    page.get_by_test_id("endpoint-name").fill(name)
    page.get_by_test_id("endpoint-kind").select_option("openai")
    page.get_by_test_id("endpoint-url").fill(url)
    page.get_by_test_id("endpoint-key").fill(key)


def row_of(page, name: str):
    return page.get_by_test_id("endpoint-row").filter(has_text=name)


def test_an_added_server_groups_its_models_and_a_chat_with_one_streams(browser, runtime, lm_studio):
    page = open_page(browser, runtime, {"width": 1280, "height": 900}, "light")
    open_settings(page)
    fill_endpoint(page, "LM Studio", lm_studio.url + "/v1", KEY)
    page.get_by_test_id("endpoint-key").press("Enter")  # the form submits from the keyboard

    row = row_of(page, "LM Studio")
    expect(row.get_by_test_id("endpoint-state")).to_contain_text("Connected", timeout=15_000)
    expect(row).to_contain_text("key saved")
    expect(row).not_to_contain_text(KEY)
    expect(page.get_by_test_id("endpoint-key")).to_have_value("")  # the form is cleared
    assert KEY not in page.content()

    # Edit: the key is said to be saved, never filled back in.
    row.get_by_test_id("endpoint-edit").click()
    expect(page.get_by_test_id("endpoint-name")).to_be_focused()
    expect(page.get_by_test_id("endpoint-key")).to_have_value("")
    expect(page.get_by_test_id("endpoint-form")).to_contain_text("Edit LM Studio")
    expect(page.get_by_test_id("endpoint-form")).to_contain_text("Key saved")
    page.get_by_test_id("endpoint-name").fill("LM Studio (desk)")
    page.get_by_test_id("endpoint-save").click()
    expect(row_of(page, "LM Studio (desk)")).to_be_visible()
    page.keyboard.press("Escape")

    picker = page.get_by_test_id("model-select")
    group = picker.locator("optgroup[label='LM Studio (desk)']")
    expect(group.locator("option")).to_have_text([MODEL])
    expect(picker.locator("optgroup").first.locator("option").first).to_have_attribute(
        "data-endpoint", "ollama"
    )
    endpoint_id = group.locator("option").get_attribute("data-endpoint")
    assert endpoint_id.startswith("ep_")

    picker.select_option(MODEL)
    box = page.get_by_test_id("composer-input")
    box.fill("Say hello")
    box.press("Enter")
    reply = page.locator("[data-testid=message][data-role=assistant]").last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.locator("strong")).to_have_text("LM Studio")
    # The reply, and the title asked for after it, both went to that server's model.
    assert {r["model"] for r in lm_studio.chat_requests} == {MODEL}

    # The conversation remembers its server: after a reload the picker shows that model.
    headers = {"Authorization": f"Bearer {runtime.token}"}
    listed = requests.get(runtime.url + "api/conversations", headers=headers, timeout=10)
    (conversation,) = listed.json()["conversations"]
    assert conversation["endpoint_id"] == endpoint_id
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(page.locator("[data-testid=model-select] option:checked")).to_have_attribute(
        "data-endpoint", endpoint_id
    )
    page.context.close()


def test_a_bad_address_is_refused_beside_the_box_and_remove_takes_a_server_away(
    browser, runtime, lm_studio
):
    page = open_page(browser, runtime, {"width": 1280, "height": 900}, "dark")
    open_settings(page)
    fill_endpoint(page, "Broken", "ftp://127.0.0.1:1234")
    page.get_by_test_id("endpoint-save").click()
    error = page.get_by_test_id("endpoint-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("http")
    expect(page.get_by_test_id("endpoint-url")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("endpoint-row")).to_have_count(1)  # only Ollama's
    error.scroll_into_view_if_needed()
    shot(page, "endpoints-bad-url-1280-dark")
    page.get_by_test_id("endpoint-url").fill(lm_studio.url)
    expect(error).to_be_hidden()

    lm_studio.api_key = None
    page.get_by_test_id("endpoint-save").click()
    row = row_of(page, "Broken")
    expect(row.get_by_test_id("endpoint-state")).to_contain_text("Connected", timeout=15_000)
    row.get_by_test_id("endpoint-connect").click()
    expect(row_of(page, "Broken").get_by_test_id("endpoint-connect")).to_be_focused()
    page.get_by_test_id("endpoint-row").filter(has_text="Broken").get_by_test_id(
        "endpoint-remove"
    ).click()
    expect(page.get_by_test_id("endpoint-row")).to_have_count(1)
    expect(page.locator("[data-testid=model-select] option", has_text=MODEL)).to_have_count(0)
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_the_model_servers_section_fits_every_screen_and_axe_finds_nothing_serious(
    browser, runtime, lm_studio, screen, scheme
):
    headers = {"Authorization": f"Bearer {runtime.token}"}
    fields = {"name": "LM Studio", "kind": "openai", "base_url": lm_studio.url, "api_key": KEY}
    added = requests.post(runtime.url + "api/endpoints", json=fields, headers=headers, timeout=10)
    assert added.status_code == 201
    page = open_page(browser, runtime, screen, scheme)
    open_settings(page)
    expect(row_of(page, "LM Studio").get_by_test_id("endpoint-state")).to_contain_text(
        "Connected", timeout=15_000
    )
    section = page.get_by_test_id("settings-endpoints")
    section.scroll_into_view_if_needed()
    fits = "s => s.scrollWidth <= s.clientWidth && s.getBoundingClientRect().right <= innerWidth"
    assert section.evaluate(fits)
    shot(page, f"endpoints-settings-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    page.context.close()
