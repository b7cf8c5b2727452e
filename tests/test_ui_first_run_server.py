"""The first-run screen's "I use LM Studio, llama.cpp or another server" in Debian's
Chromium, with Ollama down and a real FakeOpenAI as LM Studio: a choice fills its preset,
Connect adds and checks it (a server that is not there is refused and not kept), and the
app lands in a chat with its models. Settings probes the usual ports once per page, or
when asked. Phone and desktop, light and dark, axe-core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.fake_openai import FakeOpenAI
from tests.test_ui_layout import AXE_RUN, SCREENS, open_page, shot

pytestmark = [pytest.mark.browser, needs_chromium]

MODEL = "qwen2.5-7b-instruct"


@pytest.fixture
def lm_studio() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.models = [MODEL]
        fake.tokens = ["Hello ", "from ", "LM Studio", "."]
        yield fake


@pytest.fixture
def ollama_down(runtime, fake_ollama):
    fake_ollama.stop()
    call(runtime, "POST", "api/connection/reconnect")
    return runtime


def call(runtime, method: str, path: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    return requests.request(method, runtime.url + path, headers=headers, timeout=10)


def endpoint_names(runtime) -> list[str]:
    return [e["name"] for e in call(runtime, "GET", "api/endpoints").json()["endpoints"]]


def presets_asked(page) -> list[str]:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "api/endpoints/presets" in r.url else 0)
    return asked


def test_lm_studio_from_the_first_run_screen_lands_in_a_chat_with_its_models(
    browser, ollama_down, lm_studio
):
    runtime = ollama_down
    page = open_page(browser, runtime, {"width": 1280, "height": 900}, "light")
    down = page.get_by_test_id("ollama-down")
    expect(down).to_be_visible()
    expect(down.get_by_test_id("ollama-setup")).to_be_visible()  # the Ollama steps stay
    other = down.get_by_test_id("other-server")
    other.locator("summary").click()
    other.get_by_test_id("other-server-lmstudio").click()
    expect(other.get_by_test_id("other-server-lmstudio")).to_have_attribute("aria-pressed", "true")
    url = other.get_by_test_id("other-server-url")
    expect(url).to_be_focused()
    expect(url).to_have_value("http://127.0.0.1:1234/v1")  # LM Studio's own port
    expect(other).to_contain_text("port 1234")

    # This LM Studio listens elsewhere: the address is the user's to change.
    url.fill(lm_studio.url + "/v1")
    url.press("Enter")
    picker = page.get_by_test_id("model-select")
    expect(picker.locator("option:checked")).to_have_text(MODEL, timeout=15_000)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(page.get_by_test_id("status-pill")).to_have_text("LM Studio · Connected")
    assert endpoint_names(runtime) == ["Ollama", "LM Studio"]
    # Ollama, still down, says so again: LM Studio's models stay usable.
    attempt = "() => window.__app.ollamaStatus().reconnect_attempt"
    before = page.evaluate(attempt)
    call(runtime, "POST", "api/connection/reconnect")
    page.wait_for_function(f"n => ({attempt})() > n", arg=before)
    expect(picker).to_be_enabled()
    expect(picker.locator("option:checked")).to_have_text(MODEL)

    box = page.get_by_test_id("composer-input")
    box.fill("Say hello")
    box.press("Enter")
    reply = page.locator("[data-testid=message][data-role=assistant]").last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply).to_contain_text("Hello from LM Studio.")
    assert {r["model"] for r in lm_studio.chat_requests} == {MODEL}
    page.context.close()


def test_a_server_that_is_not_there_is_refused_and_not_kept(browser, ollama_down, lm_studio):
    runtime = ollama_down
    page = open_page(browser, runtime, {"width": 1280, "height": 900}, "dark")
    other = page.get_by_test_id("other-server")
    other.locator("summary").click()
    other.get_by_test_id("other-server-other").click()
    url = other.get_by_test_id("other-server-url")
    expect(url).to_have_value("")
    lm_studio.stop()  # its port, now with nobody listening
    url.fill(lm_studio.url + "/v1")
    other.get_by_test_id("other-server-connect").click()
    error = other.get_by_test_id("other-server-error")
    expect(error).to_contain_text("Couldn't reach", timeout=15_000)
    expect(error).to_contain_text("Is its server running?")
    expect(url).to_have_attribute("aria-invalid", "true")
    assert endpoint_names(runtime) == ["Ollama"]

    url.fill("ftp://nowhere")  # refused before anything is added
    other.get_by_test_id("other-server-connect").click()
    expect(error).to_contain_text("http")
    assert endpoint_names(runtime) == ["Ollama"]
    error.scroll_into_view_if_needed()
    shot(page, "first-run-other-server-error-1280-dark")
    page.context.close()


def test_the_usual_ports_are_probed_once_per_page_or_on_demand(browser, runtime):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    asked = presets_asked(page)
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    for _ in range(3):
        page.evaluate("window.__app.openSettings()")
        expect(page.get_by_test_id("endpoint-preset").locator("option")).to_have_count(6)
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("settings-endpoints")).to_be_hidden()
    assert len(asked) == 1
    page.evaluate("window.__app.openSettings()")
    rescan = page.get_by_test_id("endpoint-rescan")
    rescan.click()
    expect(rescan).to_have_text("Look again")
    expect(rescan).to_be_focused()
    assert len(asked) == 2
    context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_the_choice_fits_every_screen_and_axe_finds_nothing_serious(
    browser, ollama_down, screen, scheme
):
    page = open_page(browser, ollama_down, screen, scheme)
    other = page.get_by_test_id("other-server")
    other.locator("summary").click()
    other.get_by_test_id("other-server-llamacpp").click()
    expect(other.get_by_test_id("other-server-url")).to_have_value("http://127.0.0.1:8080/v1")
    other.get_by_test_id("other-server-form").scroll_into_view_if_needed()
    fits = "e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().right <= innerWidth"
    assert other.evaluate(fits)
    shot(page, f"first-run-other-server-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    page.context.close()


def test_ollama_without_models_offers_the_other_servers_too(browser, runtime, fake_ollama):
    fake_ollama.models = []
    call(runtime, "POST", "api/connection/reconnect")
    page = open_page(browser, runtime, {"width": 1280, "height": 900}, "light")
    card = page.get_by_test_id("no-models")
    expect(card.get_by_test_id("pull-default")).to_be_visible()
    other = card.get_by_test_id("other-server")
    other.locator("summary").click()
    other.get_by_test_id("other-server-lmstudio").click()
    expect(other.get_by_test_id("other-server-url")).to_have_value("http://127.0.0.1:1234/v1")
    page.context.close()
