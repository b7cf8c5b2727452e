"""App-level panels in Debian's Chromium: search, the Models manager (pull, cancel, delete),
Settings (theme, font size, Ollama address, Enter to send), export/import, keyboard, live
sidebar and the first-run guidance, against the real backend and the fake Ollama."""
# Over 300 lines on purpose: one browser session per panel behaviour, sharing page helpers.

from __future__ import annotations

import json
import re
import time
import tomllib

import pytest
import requests
from playwright.sync_api import expect

from tests.app_process import REPO
from tests.browser_support import ARTIFACTS, needs_chromium, open_app
from tests.fake_ollama import FakeOllama

pytestmark = [pytest.mark.browser, needs_chromium]

EXPORT = {
    "format": "cloudtolocalllm-export",
    "version": 1,
    "conversations": [
        {
            "title": "Penguin facts <img src=x onerror=window.__xss=1>",
            "updated_at": "2026-03-03T10:00:00Z",
            "messages": [
                {"role": "user", "content": "Tell me about birds of the south"},
                {"role": "assistant", "content": "Emperors dive to 500 metres."},
            ],
        },
        {
            "title": "Holiday baking",
            "updated_at": "2026-03-02T10:00:00Z",
            "messages": [
                {"role": "user", "content": "Ideas for winter cookies?"},
                {
                    "role": "assistant",
                    "content": "Try penguin-shaped sugar cookies; kids love decorating them.",
                },
            ],
        },
        {
            "title": "Rust lifetimes",
            "updated_at": "2026-03-01T10:00:00Z",
            "messages": [{"role": "user", "content": "Explain lifetimes"}],
        },
    ],
}


def api(runtime, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    return requests.request(method, runtime.url + path, headers=headers, timeout=5, **kwargs)


def seed(runtime, document: dict = EXPORT) -> list[dict]:
    response = api(runtime, "POST", "api/import", data=json.dumps(document))
    assert response.status_code == 201, response.text
    return response.json()["conversations"]


def open_page(browser, runtime, *, dark: bool = False):
    scheme = "dark" if dark else "light"
    return open_app(browser, runtime, color_scheme=scheme, until="body[data-ready=true]")


def both_themes(page, name: str) -> None:
    """Screenshots of the same view with the system in light and in dark."""
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        # Transitions finished (the progress bar's width matches its numbers): people look.
        page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}.png"), animations="disabled")
    page.emulate_media(color_scheme="light")


def saved_settings(runtime, ready, timeout: float = 5.0) -> dict:
    """`GET /api/settings` once `ready(settings)` holds (the UI saves in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        settings = api(runtime, "GET", "api/settings").json()
        if ready(settings) or time.monotonic() > deadline:
            return settings
        time.sleep(0.02)


def background_brightness(page, selector: str) -> int:
    rgb = page.evaluate(
        "(s) => getComputedStyle(document.querySelector(s)).backgroundColor", selector
    )
    return sum(int(x) for x in rgb[rgb.index("(") + 1 : -1].split(",")[:3])


# -- search ---------------------------------------------------------------------------------


def test_search_highlights_matches_and_opens_a_result_by_keyboard(browser, runtime):
    seed(runtime)
    page = open_page(browser, runtime)
    page.keyboard.press("Control+k")
    box = page.get_by_test_id("conversation-search")
    expect(box).to_be_focused()
    box.type("pengu")

    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(2)
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()
    title_hit, message_hit = results.nth(0), results.nth(1)
    expect(title_hit).to_have_attribute("data-match", "title")
    expect(title_hit.locator("mark")).to_have_text("Penguin")
    # The title's HTML is shown as text: the snippet is escaped, then sanitised again.
    expect(title_hit.get_by_test_id("search-result-title")).to_contain_text("<img src=x")
    expect(page.locator("#search-results img")).to_have_count(0)
    expect(message_hit).to_have_attribute("data-match", "message")
    expect(message_hit.get_by_test_id("search-result-snippet").locator("mark")).to_have_text(
        "penguin"
    )
    expect(message_hit.get_by_test_id("search-result-title")).to_have_text("Holiday baking")
    both_themes(page, "panels-search")

    box.press("ArrowDown")
    expect(message_hit).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page.get_by_test_id("chat-title")).to_have_text("Holiday baking")
    hit = page.locator("[data-testid=message][data-role=assistant]")
    expect(hit).to_have_class(re.compile(r"\bsearch-hit\b"))
    expect(hit).to_be_focused()  # the reader lands on the match
    expect(box).to_have_value("pengu")  # the results stay until the search is cleared

    box.fill("")
    box.type("zzz")
    expect(page.get_by_test_id("search-empty")).to_be_visible()
    expect(page.get_by_test_id("search-empty")).to_contain_text("No matches")
    box.press("Escape")
    expect(box).to_have_value("")
    expect(page.get_by_test_id("conversation-item")).to_have_count(3)
    assert page.evaluate("window.__xss") is None
    page.context.close()


# -- models ---------------------------------------------------------------------------------


def progress_of(page) -> float:
    value = page.get_by_test_id("pull-progress").get_attribute("aria-valuenow")
    return float(value) if value else 0.0


def test_a_pull_shows_progress_and_the_picker_then_lists_the_model(browser, runtime, fake_ollama):
    fake_ollama.pull_delay = 0.06
    page = open_page(browser, runtime)
    expect(
        page.get_by_test_id("model-select").locator("option", has_text="llama3.2:latest · 3.2B")
    ).to_have_count(1)
    page.get_by_test_id("open-models").click()
    manager = page.get_by_test_id("models-manager")
    expect(manager).to_be_visible()
    expect(page.get_by_test_id("model-row")).to_have_count(4)
    expect(page.locator("[data-testid=model-row][data-name='llama3.2:latest']")).to_contain_text(
        "2.0 GB"
    )
    page.get_by_test_id("pull-name").fill("mistral")
    page.get_by_test_id("pull-name").press("Enter")

    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=pull-progress]')"
        "?.getAttribute('aria-valuenow')) > 1"
    )
    first = progress_of(page)
    expect(page.get_by_test_id("pull-status")).to_contain_text("pulling")
    expect(page.get_by_test_id("pull-bytes")).to_contain_text("of 2.0 GB")
    expect(page.get_by_test_id("models-badge")).to_be_visible()
    page.wait_for_function(  # the bar moves on while the download runs
        "(first) => Number(document.querySelector('[data-testid=pull-progress]')"
        "?.getAttribute('aria-valuenow')) > Math.max(first, 40)",
        arg=first,
    )
    both_themes(page, "panels-models-pulling")

    expect(page.get_by_test_id("pull-item")).to_have_count(0, timeout=10_000)
    expect(page.get_by_test_id("toast").filter(has_text="mistral is ready")).to_be_visible()
    expect(page.locator("[data-testid=model-row][data-name='mistral:latest']")).to_be_visible()
    expect(page.get_by_test_id("models-badge")).to_be_hidden()
    picker = page.get_by_test_id("model-select")
    expect(picker.locator("option[value='mistral:latest']")).to_have_count(1)
    page.context.close()


def test_a_failed_pull_shows_ollamas_own_words(browser, runtime):
    page = open_page(browser, runtime)
    page.get_by_test_id("open-models").click()
    page.get_by_test_id("pull-name").fill("no-such-model")
    page.get_by_test_id("pull-submit").click()
    error = page.get_by_test_id("pull-error")
    expect(error).to_have_text("pull model manifest: file does not exist")
    page.get_by_test_id("pull-dismiss").click()
    expect(page.get_by_test_id("pull-item")).to_have_count(0)
    expect(page.get_by_test_id("pull-name")).to_be_focused()
    page.context.close()


def test_a_pull_can_be_cancelled(browser, runtime, fake_ollama):
    fake_ollama.pull_delay = 0.3
    page = open_page(browser, runtime)
    page.get_by_test_id("open-models").click()
    page.get_by_test_id("pull-name").fill("gemma3:4b")
    page.get_by_test_id("pull-submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pull-progress]')?.hasAttribute('aria-valuenow')"
    )
    page.get_by_test_id("pull-cancel").click()
    expect(page.get_by_test_id("pull-item")).to_have_count(0)
    expect(
        page.get_by_test_id("toast").filter(has_text="Stopped pulling gemma3:4b")
    ).to_be_visible()
    expect(page.locator("[data-testid=model-row][data-name='gemma3:4b']")).to_have_count(0)
    assert fake_ollama.find_model("gemma3:4b") is None
    page.context.close()


def test_deleting_a_model_asks_first_naming_it(browser, runtime, fake_ollama):
    page = open_page(browser, runtime)
    page.get_by_test_id("open-models").click()
    row = page.locator("[data-testid=model-row][data-name='all-minilm:latest']")
    delete = row.get_by_test_id("model-delete")
    delete.click()
    confirm = page.get_by_test_id("model-delete-dialog")
    expect(confirm).to_contain_text("Delete all-minilm:latest?")
    expect(page.get_by_test_id("model-delete-dialog-cancel")).to_be_focused()
    page.keyboard.press("Escape")  # closes only the confirmation
    expect(confirm).to_have_count(0)
    expect(page.get_by_test_id("models-manager")).to_be_visible()
    expect(delete).to_be_focused()
    assert fake_ollama.find_model("all-minilm:latest") is not None

    delete.click()
    page.get_by_test_id("model-delete-dialog-ok").click()
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("model-row")).to_have_count(3)
    expect(page.get_by_test_id("model-delete").last).to_be_focused()  # the row that moved up
    assert fake_ollama.find_model("all-minilm:latest") is None
    expect(
        page.locator("[data-testid=model-select] option[value='all-minilm:latest']")
    ).to_have_count(0)
    page.context.close()


# -- settings -------------------------------------------------------------------------------


def test_settings_theme_and_font_size_apply_at_once_and_stay(browser, runtime):
    page = open_page(browser, runtime)
    opener = page.get_by_test_id("open-settings")
    opener.focus()
    page.keyboard.press("Control+,")
    dialog = page.get_by_test_id("settings-dialog")
    expect(dialog).to_be_visible()
    # About names the one version number, the one in pyproject.toml.
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    expect(page.get_by_test_id("settings-app-version")).to_have_text(f"CloudToLocalLLM {version}")
    both_themes(page, "panels-settings")

    page.get_by_test_id("settings-theme-dark").check()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background_brightness(page, "body") < 200  # dark although the system is light

    slider = page.get_by_test_id("settings-font-size")
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    expect(page.get_by_test_id("settings-font-size-value")).to_have_text("18 px")
    size = page.evaluate("getComputedStyle(document.querySelector('.messages-inner')).fontSize")
    assert size == "18px"
    page.get_by_test_id("settings-default-model").select_option("qwen3:8b")
    saved = saved_settings(runtime, lambda s: s["font_size"] == 18 and s["default_model"])
    assert saved["theme"] == "dark" and saved["default_model"] == "qwen3:8b"

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()  # focus goes back where it was

    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    size = page.evaluate("getComputedStyle(document.querySelector('.messages-inner')).fontSize")
    assert size == "18px"
    page.context.close()


def test_settings_changed_in_another_window_apply_here(browser, runtime):
    page = open_page(browser, runtime)
    response = api(runtime, "PATCH", "api/settings", json={"theme": "dark", "font_size": 20})
    assert response.status_code == 200
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.messages-inner')).fontSize === '20px'"
    )
    page.context.close()


ROOT_VARIABLES = """() => {
  const style = getComputedStyle(document.documentElement);
  return Object.fromEntries([...style].filter((name) => name.startsWith("--"))
    .map((name) => [name, style.getPropertyValue(name).trim()]));
}"""


def test_a_chosen_theme_overrides_every_colour_of_the_system_one(browser, runtime):
    page = open_page(browser, runtime)
    html = page.locator("html")
    looks = {}
    for theme in ("system", "light", "dark"):
        assert api(runtime, "PATCH", "api/settings", json={"theme": theme}).status_code == 200
        for system in ("light", "dark"):
            page.emulate_media(color_scheme=system)
            # The page resolves "system" itself (and follows the system as it changes).
            expect(html).to_have_attribute("data-theme", system if theme == "system" else theme)
            looks[system, theme] = page.evaluate(ROOT_VARIABLES)
    assert looks["light", "system"] != looks["dark", "system"]
    assert looks["light", "dark"] == looks["dark", "system"] == looks["dark", "dark"]
    assert looks["dark", "light"] == looks["light", "system"] == looks["light", "light"]
    page.context.close()


def test_a_bad_ollama_address_is_refused_inline_and_a_good_one_is_used(browser, runtime):
    other = FakeOllama().start()
    other.models = [m for m in other.models if m["name"] == "qwen3:8b"]
    try:
        page = open_page(browser, runtime)
        pill = page.get_by_test_id("status-pill")
        expect(pill).to_have_attribute("data-state", "connected")
        page.get_by_test_id("open-settings").click()
        url = page.get_by_test_id("settings-ollama-url")
        url.fill("ftp://example.lan")
        url.press("Enter")
        error = page.get_by_test_id("settings-url-error")
        expect(error).to_contain_text("unsupported scheme 'ftp'")
        expect(url).to_have_attribute("aria-invalid", "true")

        url.fill(other.url)
        page.get_by_test_id("settings-url-apply").click()
        expect(error).to_be_hidden()
        expect(pill).to_have_attribute("title", re.compile(other.url), timeout=10_000)
        expect(pill).to_have_attribute("data-state", "connected", timeout=10_000)
        expect(page.get_by_test_id("settings-connection")).to_contain_text("Connected")
        # The picker now lists the other Ollama's only model.
        expect(page.locator("[data-testid=model-select] option")).to_have_count(1)
        expect(page.get_by_test_id("model-select")).to_have_value("qwen3:8b")
        assert api(runtime, "GET", "api/settings").json()["ollama_url"] == other.url
        page.context.close()
    finally:
        other.stop()


def test_with_send_on_enter_off_enter_breaks_the_line_and_ctrl_enter_sends(browser, runtime):
    page = open_page(browser, runtime)
    page.get_by_test_id("open-settings").click()
    toggle = page.get_by_test_id("settings-send-on-enter")
    toggle.uncheck()
    page.wait_for_function(
        "() => document.getElementById('composer-hint').textContent.includes('Ctrl')"
    )
    page.keyboard.press("Escape")
    box = page.get_by_test_id("composer-input")
    box.click()
    box.type("first line")
    box.press("Enter")
    box.type("second line")
    expect(box).to_have_value("first line\nsecond line")
    expect(page.get_by_test_id("message")).to_have_count(0)
    box.press("Control+Enter")
    expect(page.locator("[data-testid=message][data-role=user]")).to_have_count(1)
    expect(box).to_have_value("")
    assert saved_settings(runtime, lambda s: not s["send_on_enter"])["send_on_enter"] is False
    page.context.close()


# -- export and import ----------------------------------------------------------------------


def test_a_conversation_exports_as_json_from_its_menu(browser, runtime):
    seed(runtime)
    page = open_page(browser, runtime)
    item = page.get_by_test_id("conversation-item").filter(has_text="Holiday baking")
    item.hover()
    item.get_by_test_id("conversation-menu-button").click()
    menu = page.get_by_test_id("conversation-menu")
    expect(menu.get_by_test_id("conversation-pin")).to_be_focused()  # the menu's first item
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_test_id("conversation-export-markdown")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_test_id("conversation-export-json")).to_be_focused()
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == "Holiday-baking.json"
    exported = json.loads(open(download.path(), encoding="utf-8").read())
    assert exported["title"] == "Holiday baking"
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]
    expect(menu).to_have_count(0)
    page.context.close()


def test_importing_a_file_lists_its_conversations_and_a_bad_file_is_explained(
    browser, runtime, tmp_path
):
    good = tmp_path / "chats.json"
    exported = json.loads(json.dumps(EXPORT))
    for n, conversation in enumerate(exported["conversations"]):
        conversation["id"] = f"exported{n}"  # as the app's exports have
    good.write_text(json.dumps(exported), encoding="utf-8")
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"format": "something-else", "version": 1}), encoding="utf-8")
    page = open_page(browser, runtime)
    expect(page.get_by_test_id("conversation-item")).to_have_count(0)
    page.get_by_test_id("open-settings").click()
    chooser = page.get_by_test_id("settings-import-file")

    chooser.set_input_files(str(bad))
    result = page.get_by_test_id("settings-import-result")
    expect(result).to_have_attribute("data-kind", "error")
    expect(result).to_contain_text("format: must be 'cloudtolocalllm-export'")

    markdown = tmp_path / "chats.md"
    markdown.write_text("# Benchmarks\n\n**You:** Compare\n", encoding="utf-8")
    chooser.set_input_files(str(markdown))
    expect(result).to_have_text(
        "Couldn't import chats.md: This is not a CloudToLocalLLM export. Import reads the JSON "
        "files the app exports; a Markdown export is for reading and cannot be imported."
    )
    expect(page.get_by_test_id("conversation-item")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    result.scroll_into_view_if_needed()
    both_themes(page, "settings-import-markdown-390")
    page.set_viewport_size({"width": 1180, "height": 760})

    chooser.set_input_files(str(good))
    expect(result).to_have_attribute("data-kind", "ok")
    expect(result).to_have_text("Imported 3 conversations")
    expect(page.get_by_test_id("conversation-item")).to_have_count(3)
    chooser.set_input_files(str(good))  # the same file again: nothing doubles, and it says so
    expect(result).to_have_text("Nothing new to import: 3 conversations already here")
    expect(page.get_by_test_id("conversation-item")).to_have_count(3)

    with page.expect_download() as info:
        page.get_by_test_id("settings-export-json").click()
    assert info.value.suggested_filename.startswith("cloudtolocalllm-export-")
    everything = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert len(everything["conversations"]) == 3
    page.context.close()


# -- keyboard and dialogs -------------------------------------------------------------------


def test_dialogs_keep_focus_inside_and_shortcuts_work(browser, runtime):
    seed(runtime)
    page = open_page(browser, runtime)
    page.get_by_test_id("conversation-open").first.click()
    expect(page.get_by_test_id("chat-title")).not_to_have_text("New chat")
    page.keyboard.press("Control+n")
    expect(page.get_by_test_id("chat-title")).to_have_text("New chat")

    page.get_by_test_id("open-models").click()
    dialog = page.get_by_test_id("models-manager")
    expect(page.get_by_test_id("pull-name")).to_be_focused()
    for _ in range(12):  # more stops than the dialog has: focus must wrap, never leave it
        page.keyboard.press("Tab")
        assert page.evaluate(
            "() => document.querySelector('[data-testid=models-manager]')"
            ".contains(document.activeElement)"
        )
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(
        "() => document.querySelector('[data-testid=models-manager]')"
        ".contains(document.activeElement)"
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("open-models")).to_be_focused()
    page.context.close()


# -- live sidebar ---------------------------------------------------------------------------


def test_the_sidebar_follows_changes_made_elsewhere(browser, runtime):
    page = open_page(browser, runtime)
    items = page.get_by_test_id("conversation-item")
    expect(items).to_have_count(0)
    created = api(runtime, "POST", "api/conversations", json={"title": "From another window"})
    cid = created.json()["id"]
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("From another window")
    api(runtime, "PATCH", f"api/conversations/{cid}", json={"title": "Renamed elsewhere"})
    expect(items.first).to_contain_text("Renamed elsewhere")
    api(runtime, "DELETE", f"api/conversations/{cid}")
    expect(items).to_have_count(0)
    page.context.close()


# -- first run ------------------------------------------------------------------------------


def test_first_run_without_ollama_explains_install_and_carries_on(browser, runtime, fake_ollama):
    fake_ollama.stop()
    api(runtime, "POST", "api/connection/reconnect")
    page = open_page(browser, runtime)
    down = page.get_by_test_id("ollama-down")
    expect(down).to_be_visible()
    expect(down.get_by_test_id("install-linux")).to_have_text(
        "curl -fsSL https://ollama.com/install.sh | sh"
    )
    expect(down).to_contain_text("ollama.com/download")
    expect(down.get_by_test_id("cmd-serve")).to_have_text("ollama serve")
    expect(down.get_by_test_id("cmd-pull")).to_have_text("ollama pull llama3.2")
    expect(down.get_by_test_id("install-linux-copy")).to_be_visible()
    expect(page.locator("script[src^=http], img[src^=http]")).to_have_count(0)
    both_themes(page, "panels-first-run")

    fake_ollama.start()
    api(runtime, "POST", "api/connection/reconnect")
    expect(page.get_by_test_id("welcome")).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("status-pill")).to_have_attribute("data-state", "connected")
    page.context.close()


def test_no_models_yet_offers_a_one_click_pull(browser, runtime, fake_ollama):
    fake_ollama.models = []
    fake_ollama.pullable.append("llama3.2")
    fake_ollama.pull_delay = 0.02
    api(runtime, "POST", "api/connection/reconnect")
    page = open_page(browser, runtime)
    expect(page.get_by_test_id("no-models")).to_be_visible()
    page.get_by_test_id("pull-default").click()
    expect(page.get_by_test_id("models-manager")).to_be_visible()
    expect(page.get_by_test_id("toast").filter(has_text="llama3.2 is ready")).to_be_visible(
        timeout=10_000
    )
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(page.get_by_test_id("model-select")).to_have_value("llama3.2:latest")
    page.context.close()


def test_rename_and_delete_in_place(browser, runtime):
    seed(runtime)
    page = open_page(browser, runtime)
    item = page.get_by_test_id("conversation-item").filter(has_text="Rust lifetimes")
    item.hover()
    item.get_by_test_id("conversation-rename").click()
    box = page.get_by_test_id("conversation-rename-input")
    box.fill("Borrow checker notes")
    box.press("Enter")
    renamed = page.get_by_test_id("conversation-item").filter(has_text="Borrow checker notes")
    expect(renamed).to_have_count(1)
    titles = [c["title"] for c in api(runtime, "GET", "api/conversations").json()["conversations"]]
    assert "Borrow checker notes" in titles

    renamed.hover()
    renamed.get_by_test_id("conversation-delete").click()
    page.keyboard.press("Escape")  # the inline confirmation backs out
    expect(renamed.get_by_test_id("conversation-delete-confirm")).to_have_count(0)
    renamed.hover()
    renamed.get_by_test_id("conversation-delete").click()
    renamed.get_by_test_id("conversation-delete-confirm").click()
    expect(page.get_by_test_id("conversation-item")).to_have_count(2)
    page.context.close()
