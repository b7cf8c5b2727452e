"""Who wrote each reply, in Debian's Chromium against the real backend, the fake Ollama and a
fake LM Studio: the model (and its server) on every reply, Regenerate with another model from
a grouped, keyboard-driven menu, Continue for a reply that stopped early, a chat whose model
was deleted (said, never swapped), and chat settings that keep a model with its server.
Screenshots land in test-artifacts/ (people look at them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.fake_ollama import DEFAULT_TOKENS
from tests.fake_openai import FakeOpenAI
from tests.test_ui_layout import AXE_RUN, DESKTOP, PHONE, SCREENS, open_page, shot
from tests.test_ui_messages import REPLY, ask
from tests.waiting import eventually

pytestmark = [pytest.mark.browser, needs_chromium]
OLLAMA_MODEL = "llama3.2:latest"
LM_MODEL = "qwen2.5-7b-instruct"


def api(runtime, method: str, path: str, body: object = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    return requests.request(
        method, runtime.url + "api/" + path, json=body, headers=headers, timeout=10
    )


@pytest.fixture
def lm_studio(runtime) -> Iterator[tuple[FakeOpenAI, str]]:
    """A second server; it also has a model named like one of Ollama's."""
    with FakeOpenAI() as fake:
        fake.models = [LM_MODEL, OLLAMA_MODEL]
        fake.tokens = ["Hello ", "from ", "**LM Studio**", "."]
        fields = {"name": "LM Studio", "kind": "openai", "base_url": fake.url + "/v1"}
        endpoint_id = api(runtime, "POST", "endpoints", fields).json()["id"]
        state = lambda: api(runtime, "GET", f"endpoints/{endpoint_id}").json()["status"]["state"]  # noqa: E731
        assert eventually(lambda: state() == "connected")
        yield fake, endpoint_id


def pick_in_header(page, model: str, endpoint_id: str = "ollama") -> None:
    picker = page.get_by_test_id("model-select")
    expect(picker.locator(f"option[data-endpoint='{endpoint_id}'][value='{model}']")).to_have_count(
        1, timeout=15_000
    )
    picker.evaluate(
        """(select, [model, endpoint]) => {
          const option = [...select.options].find(
            (o) => o.value === model && o.dataset.endpoint === endpoint);
          option.selected = true;
          select.dispatchEvent(new Event('change'));
        }""",
        [model, endpoint_id],
    )


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_replies_name_their_model_and_regenerate_can_pick_another(
    browser, runtime, fake_ollama, lm_studio, screen, scheme
):
    fake, endpoint_id = lm_studio
    fake_ollama.tokens = ["Blue", " light", " scatters", " most."]
    page = open_page(browser, runtime, screen, scheme)
    pick_in_header(page, OLLAMA_MODEL)
    first = ask(page, "Why is the sky blue?")
    expect(first.get_by_test_id("message-model")).to_have_text(f"{OLLAMA_MODEL} · Ollama")

    # The reply's menu: every model, grouped by server, driven from the keyboard.
    first.get_by_test_id("message-regenerate-with").click()
    menu = page.get_by_test_id("model-menu")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("group")).to_have_count(2)
    expect(menu.get_by_role("group", name="LM Studio").get_by_role("menuitem")).to_have_count(2)
    items = menu.get_by_test_id("model-menu-item")
    expect(items.first).to_be_focused()
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= screen["width"]
    if screen is PHONE:
        assert items.first.bounding_box()["height"] >= 44  # a finger's target
    shot(page, f"replies-model-menu-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    target = items.filter(has_text=LM_MODEL)
    for _ in range(items.count()):
        if target.evaluate("node => node === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(menu).to_have_count(0)

    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(reply.get_by_test_id("message-content")).to_have_text("Hello from LM Studio.")
    expect(reply.get_by_test_id("message-model")).to_have_text(f"{LM_MODEL} · LM Studio")
    expect(reply.get_by_test_id("branch-pager")).to_have_text("2 / 2")
    assert fake.chat_requests[-1]["model"] == LM_MODEL
    # The conversation goes on with the chosen model: the header says so.
    picker = page.get_by_test_id("model-select")
    expect(picker.locator("option:checked")).to_have_attribute("data-endpoint", endpoint_id)
    shot(page, f"replies-regenerated-{screen['width']}-{scheme}")

    # The first version still says who wrote it.
    reply.get_by_test_id("branch-prev").click()
    back = page.locator(REPLY).last
    expect(back.get_by_test_id("message-content")).to_have_text("Blue light scatters most.")
    expect(back.get_by_test_id("message-model")).to_have_text(f"{OLLAMA_MODEL} · Ollama")
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), [(DESKTOP, "dark"), (PHONE, "light")])
def test_continue_carries_on_a_reply_that_stopped(browser, runtime, fake_ollama, screen, scheme):
    fake_ollama.error_after = 9
    page = open_page(browser, runtime, screen, scheme)
    pick_in_header(page, OLLAMA_MODEL)
    reply = ask(page, "Why is the sky blue?", status="error")
    message_id = reply.get_attribute("data-message-id")
    expect(reply.get_by_test_id("message-model")).to_have_text(OLLAMA_MODEL)  # one server
    button = reply.get_by_test_id("note-continue")
    expect(button).to_be_visible()
    shot(page, f"replies-continue-offered-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []

    # Continued, then stopped: all the text stays, and it can be continued again.
    fake_ollama.error_after, fake_ollama.token_delay = None, 0.1
    prefix = "".join(DEFAULT_TOKENS[:9])
    button.focus()
    page.keyboard.press("Enter")
    reply = page.locator(REPLY).last
    content = reply.get_by_test_id("message-content")
    expect(content).to_contain_text("Rayleigh scattering")  # new text after the old
    page.get_by_test_id("stop-button").click()
    expect(reply).to_have_attribute("data-status", "cancelled", timeout=15_000)
    expect(content).to_contain_text("The sky looks blue because of")
    stopped = api(runtime, "GET", "conversations").json()["conversations"][0]
    last = api(runtime, "GET", f"conversations/{stopped['id']}").json()["messages"][-1]
    assert last["status"] == "cancelled" and last["content"].startswith(prefix)
    assert len(last["content"]) > len(prefix)

    fake_ollama.token_delay = 0
    reply.get_by_test_id("note-continue").click()
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(page.locator(REPLY)).to_have_count(1)
    assert reply.get_attribute("data-message-id") == message_id  # the same message, grown
    whole = "".join(DEFAULT_TOKENS)
    stored = api(runtime, "GET", "conversations").json()["conversations"][0]
    messages = api(runtime, "GET", f"conversations/{stored['id']}").json()["messages"]
    assert messages[-1]["content"] == whole and messages[-1]["status"] == "complete"
    reply.scroll_into_view_if_needed()
    expect(reply.get_by_test_id("message-content")).to_contain_text("shortest visible λ < 500 nm.")
    expect(reply.get_by_test_id("message-content")).to_contain_text("The sky looks blue because")
    expect(reply.get_by_test_id("note-continue")).to_have_count(0)
    expect(reply.get_by_test_id("branch-pager")).to_have_count(0)  # no new version
    assert fake_ollama.chat_requests[-1]["messages"][-1]["role"] == "assistant"
    shot(page, f"replies-continued-{screen['width']}-{scheme}")
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), [(PHONE, "dark"), (DESKTOP, "light")])
def test_a_deleted_model_is_said_and_never_swapped(browser, runtime, fake_ollama, screen, scheme):
    page = open_page(browser, runtime, screen, scheme)
    pick_in_header(page, OLLAMA_MODEL)
    ask(page, "Hello")
    cid = api(runtime, "GET", "conversations").json()["conversations"][0]["id"]
    # Deleted (here from another window): the open chat hears of it and holds on to its
    # model; after a reload it still does.
    assert api(runtime, "DELETE", f"models/{OLLAMA_MODEL}").status_code == 204
    picker = page.get_by_test_id("model-select")
    expect(picker).to_have_attribute("data-missing", "true")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)

    picker = page.get_by_test_id("model-select")
    expect(picker).to_have_attribute("data-missing", "true")
    expect(picker.locator("option:checked")).to_have_text(f"{OLLAMA_MODEL} — not available")
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text(f"{OLLAMA_MODEL}, is no longer available")
    box = page.get_by_test_id("composer-input")
    box.fill("Still there?")
    expect(page.get_by_test_id("send-button")).to_be_disabled()
    box.press("Enter")  # nothing goes to another model
    expect(box).to_have_value("Still there?")
    shot(page, f"replies-model-gone-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []

    page.get_by_test_id("notice-choose-model").click()
    menu = page.get_by_test_id("model-menu")
    expect(menu).to_be_visible()
    assert page.evaluate(AXE_RUN) == []
    menu.get_by_test_id("model-menu-item").filter(has_text="qwen3:8b").click()
    expect(notice).to_be_hidden()
    expect(picker).to_have_attribute("data-missing", "false")
    chosen = lambda: api(runtime, "GET", f"conversations/{cid}").json()["model"]  # noqa: E731
    assert eventually(lambda: chosen() == "qwen3:8b")
    box.press("Enter")
    expect(page.locator(REPLY)).to_have_count(2)
    expect(page.locator(REPLY).last).to_have_attribute("data-status", "complete", timeout=15_000)
    assert fake_ollama.chat_requests[-1]["model"] == "qwen3:8b"
    page.context.close()


def test_chat_settings_keep_the_model_with_its_server(browser, runtime, fake_ollama, lm_studio):
    fake, endpoint_id = lm_studio
    page = open_page(browser, runtime, DESKTOP, "dark")
    pick_in_header(page, OLLAMA_MODEL)
    ask(page, "Hello")
    cid = api(runtime, "GET", "conversations").json()["conversations"][0]["id"]

    page.get_by_test_id("chat-settings-button").click()
    select = page.get_by_test_id("chat-settings-model")
    # The same name on two servers: two options, each under its server.
    expect(select.locator(f"option[value='{OLLAMA_MODEL}']")).to_have_count(2)
    expect(select.locator("option:checked")).to_have_attribute("data-endpoint", "ollama")
    select.evaluate(
        """(s, endpoint) => {
          const option = s.querySelector(`optgroup[label='LM Studio'] option[value='${
            s.querySelector('option:checked').value}']`);
          option.selected = true;
          s.dispatchEvent(new Event('change'));
        }""",
        endpoint_id,
    )
    page.get_by_test_id("chat-settings-save").click()
    expect(page.get_by_test_id("chat-settings")).to_have_count(0)
    stored = api(runtime, "GET", f"conversations/{cid}").json()
    assert (stored["model"], stored["endpoint_id"]) == (OLLAMA_MODEL, endpoint_id)
    picker = page.get_by_test_id("model-select")
    expect(picker.locator("option:checked")).to_have_attribute("data-endpoint", endpoint_id)

    # Sent to that server, and the dialog shows the pair when it opens again.
    ask(page, "And now?")
    assert fake.chat_requests[-1]["model"] == OLLAMA_MODEL
    page.get_by_test_id("chat-settings-button").click()
    checked = page.get_by_test_id("chat-settings-model").locator("option:checked")
    expect(checked).to_have_attribute("data-endpoint", endpoint_id)
    shot(page, "replies-chat-settings-1920-dark")
    page.context.close()
