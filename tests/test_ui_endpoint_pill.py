"""The status pill in Debian's Chromium follows the endpoint in use: the open conversation's
(a real FakeOpenAI as LM Studio beside the fake Ollama), or the new chat's; named when there
are several, and a click reconnects that endpoint. Phone and desktop, light and dark, axe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.fake_openai import FakeOpenAI
from tests.test_ui_layout import AXE_RUN, SCREENS, open_page, shot

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def lm_studio() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.models = ["qwen2.5-7b-instruct"]
        yield fake


def call(runtime, method: str, path: str, body: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    answer = requests.request(method, runtime.url + path, json=body, headers=headers, timeout=10)
    assert answer.ok, answer.text
    return answer.json()


def lm_studio_chat(runtime, server: FakeOpenAI) -> tuple[str, str]:
    """LM Studio added over REST and a conversation on it: (endpoint id, conversation id)."""
    fields = {"name": "LM Studio", "kind": "openai", "base_url": server.url + "/v1"}
    endpoint_id = call(runtime, "POST", "api/endpoints", fields)["id"]
    body = {"title": "On LM Studio", "endpoint_id": endpoint_id, "model": server.models[0]}
    return endpoint_id, call(runtime, "POST", "api/conversations", body)["id"]


def test_the_pill_names_the_open_conversations_server_and_reconnects_it(
    browser, runtime, lm_studio
):
    endpoint_id, conversation = lm_studio_chat(runtime, lm_studio)
    page = open_page(browser, runtime, {"width": 1280, "height": 800}, "light", conversation)
    pill = page.get_by_test_id("status-pill")
    expect(pill).to_have_text("LM Studio · Connected", timeout=15_000)
    expect(pill).to_have_attribute("title", pill_title(lm_studio))

    lm_studio.stop()
    call(runtime, "POST", f"api/endpoints/{endpoint_id}/connect")  # finds it gone at once
    expect(pill).to_have_attribute("data-state", "reconnecting")
    expect(pill).to_contain_text("LM Studio · Reconnecting")
    # A click on the pill checks that server now (not Ollama), and says what it found.
    with page.expect_request(lambda r: r.url.endswith(f"api/endpoints/{endpoint_id}/connect")):
        pill.click()
    expect(pill).to_contain_text("LM Studio · Reconnecting")
    lm_studio.start()  # back on its port: the monitor's next retry (≤ 30 s) finds it
    expect(pill).to_have_text("LM Studio · Connected", timeout=35_000)

    # A new chat uses Ollama's model: the pill speaks for Ollama, named beside LM Studio.
    page.evaluate("window.__app.newChat()")
    expect(pill).to_have_text("Ollama · Connected")
    # The server removed: Ollama alone again, and unnamed.
    call_delete = requests.delete(
        f"{runtime.url}api/endpoints/{endpoint_id}",
        headers={"Authorization": f"Bearer {runtime.token}"},
        timeout=10,
    )
    assert call_delete.status_code == 204
    expect(pill).to_have_text("Connected")
    page.context.close()


def test_picking_another_servers_model_for_a_new_chat_moves_the_pill(browser, runtime, lm_studio):
    lm_studio_chat(runtime, lm_studio)
    page = open_page(browser, runtime, {"width": 1280, "height": 800}, "dark")
    pill = page.get_by_test_id("status-pill")
    expect(pill).to_have_text("Ollama · Connected", timeout=15_000)
    page.get_by_test_id("model-select").select_option("qwen2.5-7b-instruct")
    expect(pill).to_have_text("LM Studio · Connected")
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_the_named_pill_fits_every_screen_and_axe_finds_nothing_serious(
    browser, runtime, lm_studio, screen, scheme
):
    _endpoint_id, conversation = lm_studio_chat(runtime, lm_studio)
    page = open_page(browser, runtime, screen, scheme, conversation)
    pill = page.get_by_test_id("status-pill")
    expect(pill).to_have_attribute(
        "aria-label", re.compile("^LM Studio · Connected. LM Studio at ")
    )
    expect(pill).to_have_attribute("title", pill_title(lm_studio))
    header = page.locator("header").first
    fits = "h => h.scrollWidth <= h.clientWidth && h.getBoundingClientRect().right <= innerWidth"
    assert header.evaluate(fits)
    shot(page, f"endpoint-pill-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    page.context.close()


def pill_title(server: FakeOpenAI) -> re.Pattern:
    return re.compile(rf"^LM Studio at {re.escape(server.url)}/v1 · 1 model · (<1|\d+) ms$")
