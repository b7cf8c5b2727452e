"""The UI on every screen: tables and code that stay readable, a phone-width layout, model
images that fetch nothing, and no serious or critical axe-core violation on any view, at
390 and 1920 px, light and dark. Screenshots land in test-artifacts/ (people look at them)."""
# Over 300 lines on purpose: one test per screen-size and accessibility rule, sharing page helpers.

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import ARTIFACTS, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}
SCREENS = [
    pytest.param(PHONE, "light", id="390-light"),
    pytest.param(PHONE, "dark", id="390-dark"),
    pytest.param(DESKTOP, "light", id="1920-light"),
    pytest.param(DESKTOP, "dark", id="1920-dark"),
]

TABLE = (
    "| Model | Average latency | Stable? | Notes |\n|---|---|---|---|\n"
    "| llama3.2 | 120 ms | yes | The quick brown fox jumps over the lazy dog several times |\n"
    "| qwen3:8b | 340 ms | mostly | Needs considerably more memory than expected |\n"
)
CODE = (
    "```python\ndef very_long_function_name(argument_one, argument_two, argument_three, "
    "argument_four, argument_five, argument_six, argument_seven):\n    return argument_one\n```\n"
)
REPLY = (
    f"Here is a table.\n\n{TABLE}\n{CODE}\n![a cat](/x)\n\n"
    "- [x] Measure the latency\n- [ ] Write it up\n\nSome closing text."
)


def export(
    title: str = "Benchmarks",
    reply: str = REPLY,
    stamp: str = "2026-01-01T00:00:00Z",
    cid: str = "c1",
) -> dict:
    return {
        "format": "cloudtolocalllm-export",
        "version": 1,
        "conversations": [
            {
                "id": cid,  # one id per chat: importing an id already there skips it
                "title": title,
                "created_at": stamp,
                "updated_at": stamp,
                "model": "llama3.2:latest",
                "messages": [
                    {"id": "m1", "role": "user", "content": "Compare", "created_at": stamp},
                    {
                        "id": "m2",
                        "role": "assistant",
                        "content": reply,
                        "created_at": stamp,
                        "parent_id": "m1",
                    },
                ],
            }
        ],
    }


def seed(runtime, document: dict) -> str:
    """Import a conversation; its id."""
    headers = {"Authorization": f"Bearer {runtime.token}", "Content-Type": "application/json"}
    response = requests.post(
        runtime.url + "api/import", data=json.dumps(document), headers=headers, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["conversations"][0]["id"]


def open_page(browser, runtime, screen: dict, scheme: str, conversation: str | None = None):
    """The app at a screen size and system theme, with `conversation` open (None: a new chat)."""
    context = browser.new_context(viewport=screen, color_scheme=scheme)
    page = context.new_page()
    if conversation:
        page.add_init_script(
            f"localStorage.setItem('ctl.conversation', JSON.stringify({conversation!r}))"
        )
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled")


# Every word of the cells laid out on one line: a word broken mid-word has two boxes.
BROKEN_WORDS = """(root) => {
  const broken = [];
  for (const cell of root.querySelectorAll('th, td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        if (range.getClientRects().length > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_table_words_stay_whole_and_a_wide_table_scrolls_by_keyboard(
    browser, runtime, screen, scheme
):
    page = open_page(browser, runtime, screen, scheme, seed(runtime, export()))
    wrap = page.get_by_test_id("table-wrap")
    expect(wrap).to_be_visible()
    shot(page, f"layout-table-{screen['width']}-{scheme}")
    assert wrap.evaluate(BROKEN_WORDS) == []
    assert wrap.get_attribute("tabindex") == "0" and wrap.get_attribute("role") == "region"
    if screen is PHONE:
        # Too wide for a phone: it scrolls in its own box, from the keyboard too.
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
        wrap.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.activeElement.scrollLeft > 0")
    page.context.close()


def test_a_table_streaming_in_keeps_its_words_whole(browser, runtime, fake_ollama):
    # The reply arrives a few characters at a time: the half-drawn table is checked as it grows.
    text = f"Results:\n\n{TABLE}\nDone."
    fake_ollama.tokens = [text[i : i + 6] for i in range(0, len(text), 6)]
    fake_ollama.token_delay = 0.05
    page = open_page(browser, runtime, PHONE, "light")
    page.get_by_test_id("composer-input").fill("Compare them")
    page.keyboard.press("Enter")
    streaming = page.locator("article.message.assistant[data-status=streaming]")
    expect(streaming.locator("td", has_text="lazy")).to_have_count(1)
    assert streaming.count() == 1  # still streaming: the table is the growing tail
    assert streaming.evaluate(BROKEN_WORDS) == []
    done = page.locator("article.message.assistant[data-status=complete]")
    expect(done).to_have_count(1)
    assert done.evaluate(BROKEN_WORDS) == []
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_long_code_lines_scroll_by_keyboard_and_wrap_on_request(browser, runtime, screen, scheme):
    page = open_page(browser, runtime, screen, scheme, seed(runtime, export()))
    block = page.locator(".code-block")
    pre = block.locator("pre")
    assert pre.evaluate("p => p.scrollWidth > p.clientWidth")  # the line is longer than the box
    pre.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")
    toggle = block.get_by_test_id("code-wrap")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert pre.evaluate("p => p.scrollWidth <= p.clientWidth")  # wrapped: nothing cut off
    shot(page, f"layout-code-wrapped-{screen['width']}-{scheme}")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert pre.evaluate("p => p.scrollWidth > p.clientWidth")
    page.context.close()


def test_model_images_fetch_nothing_and_task_boxes_are_labelled(browser, runtime):
    conversation = seed(runtime, export())
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.add_init_script(
        f"localStorage.setItem('ctl.conversation', JSON.stringify({conversation!r}))"
    )
    page.goto(f"{runtime.url}?token={runtime.token}")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(page.get_by_test_id("image-placeholder")).to_have_text("Image: a cat")
    assert page.locator("[data-testid=message-content] img").count() == 0
    assert not [url for url in fetched if url.endswith("/x")]
    boxes = page.locator("[data-testid=message-content] input[type=checkbox]")
    expect(boxes).to_have_count(2)
    assert boxes.nth(0).get_attribute("aria-label") == "Measure the latency"
    assert boxes.nth(1).get_attribute("aria-label") == "Write it up"
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_header_keeps_the_title_and_every_control_is_finger_sized(browser, runtime, scheme):
    conversation = seed(runtime, export(title="Weekly grocery plan"))
    page = open_page(browser, runtime, PHONE, scheme, conversation)
    title = page.get_by_test_id("chat-title")
    expect(title).to_have_text("Weekly grocery plan")
    assert title.evaluate("t => t.scrollWidth <= t.clientWidth")  # not cut to "W…"
    shot(page, f"layout-phone-chat-{scheme}")
    small = page.evaluate(SMALL_TARGETS, ".chat-header, .messages, .composer-wrap")
    assert small == []
    # The sidebar is a drawer over the chat; its rows and buttons are finger-sized too.
    page.locator("#toggle-sidebar").click()
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_visible()
    assert sidebar.evaluate("s => getComputedStyle(s).position") == "fixed"
    shot(page, f"layout-phone-drawer-{scheme}")
    assert page.evaluate(SMALL_TARGETS, ".sidebar") == []
    page.locator("#backdrop").click(position={"x": 370, "y": 400})
    expect(sidebar).to_be_hidden()
    page.context.close()


# Visible buttons, inputs and selects under `scope` smaller than 44 × 44 px (WCAG 2.5.5; links
# in running text are exempt).
SMALL_TARGETS = """(scope) => {
  const small = [];
  for (const root of document.querySelectorAll(scope)) {
    const controls = root.querySelectorAll('button, select, input:not([type=checkbox]), textarea');
    for (const el of controls) {
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
      if (box.width < 44 || box.height < 44) {
        small.push(`${el.dataset.testid || el.id || el.className}: ${box.width}x${box.height}`);
      }
    }
  }
  return small;
}"""


VIEWS = ["chat", "chat-settings", "search", "settings", "models", "new-chat"]


def open_view(page, view: str) -> None:
    """Show one view of the app, from the chat with a reply the page opened on."""
    if view == "chat-settings":
        page.get_by_test_id("chat-settings-button").click()
        expect(page.locator("#chat-settings")).to_be_visible()
    elif view == "search":
        if not page.locator("#sidebar").is_visible():
            page.locator("#toggle-sidebar").click()
        page.get_by_test_id("conversation-search").fill("latency")
        expect(page.locator(".search-result").first).to_be_visible()
    elif view == "settings":
        page.evaluate("window.__app.openSettings()")
        expect(page.get_by_test_id("settings-dialog")).to_be_visible()
    elif view == "models":
        page.evaluate("window.__app.openModels()")
        expect(page.get_by_test_id("model-table")).to_be_visible()
    elif view == "new-chat":
        page.evaluate("window.__app.newChat()")
        expect(page.get_by_test_id("empty-state")).to_be_visible()


def close_view(page, view: str) -> None:
    if view == "search":
        page.get_by_test_id("conversation-search").fill("")
    if view != "chat":
        page.keyboard.press("Escape")


AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.nodes.slice(0, 5)
      .map((n) => `${n.target.join(' ')} ${n.any[0]?.message || ''}`).join(', '));
}"""


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_axe_finds_no_serious_or_critical_violation_on_any_view(browser, runtime, screen, scheme):
    page = open_page(browser, runtime, screen, scheme, seed(runtime, export()))
    expect(page.get_by_test_id("table-wrap")).to_be_visible()
    # Vendored axe-core, served like the app's own files (the page's CSP allows only those).
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    found = {}
    for view in VIEWS:
        open_view(page, view)
        shot(page, f"view-{view}-{screen['width']}-{scheme}")
        found[view] = page.evaluate(AXE_RUN)
        close_view(page, view)
    assert found == {view: [] for view in VIEWS}
    page.context.close()


def test_the_chat_list_is_one_tab_stop_with_arrow_keys_inside(browser, runtime):
    for i in range(12):
        seed(runtime, export(title=f"Chat number {i}", cid=f"c{i}"))
    page = open_page(browser, runtime, DESKTOP, "dark")
    items = page.get_by_test_id("conversation-item")
    expect(items).to_have_count(12)
    # The skip link is the page's first stop (just before "New chat"), into the composer.
    page.get_by_test_id("new-chat").focus()
    page.keyboard.press("Shift+Tab")
    skip = page.get_by_test_id("skip-link")
    expect(skip).to_be_focused()
    shot(page, "layout-skip-link-1920-dark")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    # From "New chat" to the composer: search, one stop for the list, the footer's two
    # buttons, the header's four, the four suggestions, the composer's attach button (was 55
    # with four stops a chat).
    page.get_by_test_id("new-chat").focus()
    stops = 0
    while not page.get_by_test_id("composer-input").evaluate("c => c === document.activeElement"):
        page.keyboard.press("Tab")
        stops += 1
        assert stops < 20
    in_list = page.evaluate("() => document.querySelectorAll('#conv-list [tabindex=\"0\"]').length")
    assert in_list == 1 and stops == 14
    first = items.nth(0).get_by_test_id("conversation-open")
    first.focus()
    page.keyboard.press("ArrowDown")
    expect(items.nth(1).get_by_test_id("conversation-open")).to_be_focused()
    page.keyboard.press("End")
    expect(items.nth(11).get_by_test_id("conversation-open")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(items.nth(11).get_by_test_id("conversation-rename")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("F2")
    expect(page.locator(".conv-rename")).to_be_focused()
    page.keyboard.press("Escape")
    page.context.close()


def test_renaming_a_chat_keeps_its_place_in_the_list(browser, runtime):
    for day, title in enumerate(("Oldest chat", "Middle chat", "Newest chat"), start=1):
        seed(runtime, export(title=title, stamp=f"2026-01-0{day}T00:00:00Z", cid=f"c{day}"))
    page = open_page(browser, runtime, DESKTOP, "light")
    titles = page.get_by_test_id("conversation-title")
    expect(titles).to_have_text(["Newest chat", "Middle chat", "Oldest chat"])
    page.get_by_test_id("conversation-open").nth(1).focus()
    page.keyboard.press("F2")
    box = page.locator(".conv-rename")
    box.fill("Middle chat, renamed")
    box.press("Enter")
    expect(titles).to_have_text(["Newest chat", "Middle chat, renamed", "Oldest chat"])
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(titles).to_have_text(["Newest chat", "Middle chat, renamed", "Oldest chat"])
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), [SCREENS[1], SCREENS[2]])
def test_the_models_dialog_stays_put_as_pulls_come_and_go(
    browser, runtime, fake_ollama, screen, scheme
):
    fake_ollama.pull_delay = 0.3
    page = open_page(browser, runtime, screen, scheme)
    page.evaluate("window.__app.openModels()")
    dialog = page.get_by_test_id("models-manager")
    expect(page.get_by_test_id("model-table")).to_be_visible()
    settled = "d => Promise.all(d.getAnimations().map((a) => a.finished))"
    dialog.evaluate(settled)  # its opening animation scales it
    before = dialog.bounding_box()
    page.get_by_test_id("pull-name").fill("gemma3:4b")
    page.get_by_test_id("pull-submit").click()
    expect(page.get_by_test_id("pull-cancel")).to_be_visible()
    dialog.evaluate(settled)
    shot(page, f"layout-models-pulling-{screen['width']}-{scheme}")
    assert dialog.bounding_box() == before
    page.context.close()


# Where the toasts are, against the header and the message list (boxes on the page).
TOAST_OVERLAPS = """async () => {
  const { toast } = await import("./js/toast.js");
  toast("Couldn't rename the conversation: the disk is full", { timeout: 0 });
  toast("Exported 3 conversations", { kind: "info", timeout: 0 });
  const box = (el) => el.getBoundingClientRect();
  const meets = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const header = box(document.querySelector(".chat-header"));
  const list = box(document.getElementById("messages"));
  return [...document.querySelectorAll("[data-testid=toast]")].map((node) => {
    const t = box(node);
    return { header: meets(t, header), messages: meets(t, list), height: t.height };
  });
}"""


@pytest.mark.parametrize(("screen", "scheme"), [SCREENS[1], SCREENS[2]])
def test_toasts_cover_neither_the_header_nor_the_messages(browser, runtime, screen, scheme):
    page = open_page(browser, runtime, screen, scheme, seed(runtime, export()))
    expect(page.locator("[data-testid=message][data-role=assistant]")).to_have_count(1)
    placed = page.evaluate(TOAST_OVERLAPS)
    assert len(placed) == 2 and all(t["height"] > 0 for t in placed)
    assert not any(t["header"] or t["messages"] for t in placed), placed
    expect(page.get_by_test_id("toast").first).to_be_visible()
    expect(page.get_by_test_id("composer-input")).to_be_in_viewport()  # still there to type in
    shot(page, f"toasts-{screen['width']}-{scheme}")
    page.context.close()
