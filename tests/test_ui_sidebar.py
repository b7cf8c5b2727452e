"""The sidebar's groups (Pinned, Today, Yesterday, Previous 7 days, Older, in the user's
time zone), pinning from the menu and the keyboard, and an address per conversation
(`#/c/<id>`) that reload, Back and Forward keep, at 390 and 1920 px, light and dark."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.test_ui_layout import AXE_RUN, DESKTOP, PHONE, SCREENS, export, seed, shot

pytestmark = [pytest.mark.browser, needs_chromium]

# Far from the machine's UTC: a chat from this morning there is from yesterday in UTC.
ZONE = "Pacific/Auckland"


# Moments by the calendar of the browser's zone (the browser's own zone data, so the test
# needs none on this machine): just after this midnight, just before it, 3 and 30 days back.
ZONE_MOMENTS = """() => {
  const now = new Date();
  const day = (back, seconds) =>
    new Date(now.getFullYear(), now.getMonth(), now.getDate() - back, 0, 0, seconds)
      .toISOString();
  return { today: day(0, 30), yesterday: day(0, -60), week: day(3, 0), older: day(30, 0) };
}"""


def seed_days(browser, runtime) -> dict[str, str]:
    """One chat per group, by its last activity in ZONE; their ids by group."""
    context = browser.new_context(timezone_id=ZONE)
    moments = context.new_page().evaluate(ZONE_MOMENTS)
    context.close()
    return {
        key: seed(runtime, export(title=f"Chat {key}", cid=f"c_{key}", stamp=at))
        for key, at in moments.items()
    }


def open_at(browser, runtime, screen: dict, scheme: str, fragment: str = ""):
    context = browser.new_context(viewport=screen, color_scheme=scheme, timezone_id=ZONE)
    page = context.new_page()
    page.goto(f"{runtime.url}?token={runtime.token}{fragment}")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    return page


def show_sidebar(page) -> None:
    """On a phone the list is a drawer: open it."""
    if page.viewport_size["width"] < 760:
        page.locator("#toggle-sidebar").click()
        expect(page.get_by_test_id("conversation-list")).to_be_in_viewport()


def groups(page) -> list[tuple[str, list[str]]]:
    found = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=conversation-group]')].map((h) => [
          h.textContent,
          [...h.nextElementSibling.querySelectorAll('[data-testid=conversation-title]')]
            .map((t) => t.textContent)])"""
    )
    return [(heading, titles) for heading, titles in found]


def pinned_of(runtime, cid: str) -> bool:
    response = requests.get(
        f"{runtime.url}api/conversations/{cid}",
        headers={"Authorization": f"Bearer {runtime.token}"},
        timeout=10,
    )
    return response.json()["pinned"]


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_chats_are_grouped_by_day_in_the_users_zone_and_axe_finds_nothing(
    browser, runtime, screen, scheme
):
    seed_days(browser, runtime)
    page = open_at(browser, runtime, screen, scheme)
    show_sidebar(page)
    assert groups(page) == [
        ("Today", ["Chat today"]),
        ("Yesterday", ["Chat yesterday"]),
        ("Previous 7 days", ["Chat week"]),
        ("Older", ["Chat older"]),
    ]
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    shot(page, f"sidebar-groups-{screen['width']}-{scheme}")
    page.context.close()


def test_headings_are_no_stops_and_arrow_keys_pass_over_them(browser, runtime):
    ids = seed_days(browser, runtime)
    page = open_at(browser, runtime, DESKTOP, "dark")
    headings = page.get_by_test_id("conversation-group")
    expect(headings).to_have_count(4)
    assert all(h.get_attribute("tabindex") is None for h in headings.all())
    stops = page.evaluate("() => document.querySelectorAll('#conv-list [tabindex=\"0\"]').length")
    assert stops == 1
    rows = page.get_by_test_id("conversation-open")
    rows.nth(0).focus()
    for key in ("yesterday", "week", "older"):
        page.keyboard.press("ArrowDown")
        focused = page.evaluate("() => document.activeElement.closest('li').dataset.conversationId")
        assert focused == ids[key]
    page.keyboard.press("Home")
    expect(rows.nth(0)).to_be_focused()
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), [SCREENS[1], SCREENS[3]])
def test_pin_from_the_menu_and_unpin_with_the_keyboard(browser, runtime, screen, scheme):
    ids = seed_days(browser, runtime)
    page = open_at(browser, runtime, screen, scheme)
    show_sidebar(page)
    older = page.locator(f'[data-conversation-id="{ids["older"]}"]')
    older.get_by_test_id("conversation-open").focus()
    older.get_by_test_id("conversation-menu-button").click()
    expect(page.get_by_test_id("conversation-pin")).to_have_text("Pin to top")
    page.get_by_test_id("conversation-pin").click()
    expect(page.get_by_test_id("conversation-group").first).to_have_text("Pinned")
    assert groups(page)[0] == ("Pinned", ["Chat older"])
    assert ("Older", ["Chat older"]) not in groups(page)
    assert pinned_of(runtime, ids["older"]) is True
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    shot(page, f"sidebar-pinned-{screen['width']}-{scheme}")
    # Stored: a reload shows it pinned. Then P on the focused row unpins it.
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    show_sidebar(page)
    assert groups(page)[0] == ("Pinned", ["Chat older"])
    pinned_row = page.locator(f'[data-conversation-id="{ids["older"]}"] .conv-main')
    pinned_row.focus()
    page.keyboard.press("p")
    expect(page.get_by_test_id("conversation-group").first).to_have_text("Today")
    assert groups(page)[-1] == ("Older", ["Chat older"])
    expect(pinned_row).to_be_focused()  # focus went with the chat to its group
    assert pinned_of(runtime, ids["older"]) is False
    page.context.close()


def title(page):
    return page.get_by_test_id("chat-title")


def open_row(page, cid: str) -> None:
    show_sidebar(page)
    page.locator(f'[data-conversation-id="{cid}"] .conv-main').click()


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1920"])
def test_each_chat_has_an_address_kept_by_reload_back_and_forward(browser, runtime, screen):
    ids = seed_days(browser, runtime)
    page = open_at(browser, runtime, screen, "dark")
    expect(title(page)).to_have_text("New chat")
    assert "#" not in page.url
    open_row(page, ids["week"])
    expect(title(page)).to_have_text("Chat week")
    expect(page).to_have_url(re.compile(rf"\?token=[^#]+#/c/{ids['week']}$"))
    open_row(page, ids["today"])
    expect(page).to_have_url(re.compile(rf"#/c/{ids['today']}$"))
    page.go_back()
    expect(title(page)).to_have_text("Chat week")
    expect(page.locator(f'[data-conversation-id="{ids["week"]}"]')).to_have_class(
        re.compile(r"\bactive\b")
    )
    page.go_forward()
    expect(title(page)).to_have_text("Chat today")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(title(page)).to_have_text("Chat today")
    page.evaluate("window.__app.newChat()")
    expect(title(page)).to_have_text("New chat")
    assert "#" not in page.url
    page.go_back()
    expect(title(page)).to_have_text("Chat today")
    page.context.close()


def test_an_unknown_address_says_not_found_and_shows_a_new_chat(browser, runtime):
    ids = seed_days(browser, runtime)
    page = open_at(browser, runtime, DESKTOP, "dark", "#/c/no_such_chat")
    expect(page.get_by_test_id("toast")).to_contain_text("not found")
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    expect(title(page)).to_have_text("New chat")
    assert "#" not in page.url
    # Typed into the address bar of a page already open: the same.
    page.evaluate(f"location.hash = '#/c/{ids['yesterday']}'")
    expect(title(page)).to_have_text("Chat yesterday")
    # An anchor, not a chat: the chat stays open. (The app's listener runs before this one,
    # and opening a new chat would have changed the title before it returns.)
    shown = page.evaluate(
        """() => new Promise((resolve) => {
          addEventListener('hashchange', () => resolve(document.title), { once: true });
          location.hash = '#notes';
        })"""
    )
    assert shown.startswith("Chat yesterday")
    page.evaluate("location.hash = '#/c/gone'")
    expect(page.get_by_test_id("toast").last).to_contain_text("not found")
    expect(title(page)).to_have_text("New chat")
    shot(page, "sidebar-not-found-1920-dark")
    # The tray's older forms (web mode) still work, and show the new address.
    page.goto(f"{runtime.url}?token={runtime.token}#conversation={ids['older']}")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(title(page)).to_have_text("Chat older")
    expect(page).to_have_url(re.compile(rf"#/c/{ids['older']}$"))
    page.context.close()


def test_a_launch_code_address_opens_the_chat_it_names(browser, runtime):
    ids = seed_days(browser, runtime)
    context = browser.new_context(viewport=DESKTOP, timezone_id=ZONE)
    page = context.new_page()
    page.goto(runtime.launch_url() + f"#/c/{ids['older']}")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(title(page)).to_have_text("Chat older")
    # The spent code left the address; the chat's place in it stayed.
    expect(page).to_have_url(re.compile(rf"/#/c/{ids['older']}$"))
    page.reload()  # the token kept in the tab's session
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    expect(title(page)).to_have_text("Chat older")
    context.close()


# The columns the layout has now, and whether a transition is still moving them.
COLUMNS_NOW = """() => {
  const app = document.getElementById('app');
  const moving = document.getAnimations().filter((a) => a.effect.target === app);
  return { columns: getComputedStyle(app).gridTemplateColumns, moving: moving.length,
           side: document.getElementById('sidebar').getBoundingClientRect().width };
}"""


@pytest.mark.parametrize("drawer_open", [True, False], ids=["drawer-open", "drawer-closed"])
def test_growing_from_a_phone_to_a_wide_window_gives_the_sidebar_its_width_at_once(
    browser, runtime, drawer_open
):
    """Seen once: after a resize from 390 to 1180 px the sidebar was squeezed. It slid open
    from the closed drawer's column, a sliver beside a full-width chat while it moved."""
    ids = seed_days(browser, runtime)
    page = open_at(browser, runtime, PHONE, "dark")
    open_row(page, ids["week"])  # on a phone, opening a chat closes the drawer
    expect(page.locator("#app")).to_have_class(re.compile(r"\bsidebar-closed\b"))
    if drawer_open:
        show_sidebar(page)
    page.set_viewport_size({"width": 1180, "height": 760})
    page.wait_for_function(
        "() => !document.getElementById('app').classList.contains('sidebar-closed')"
    )
    now = page.evaluate(COLUMNS_NOW)
    assert now == {"columns": "272px 908px", "moving": 0, "side": 272}
    assert groups(page)[0] == ("Today", ["Chat today"])
    shot(page, f"sidebar-resized-{'open' if drawer_open else 'closed'}-1180-dark")
    # Back to a phone: the drawer is closed and the chat has the whole width.
    page.set_viewport_size(PHONE)
    expect(page.locator("#app")).to_have_class(re.compile(r"\bsidebar-closed\b"))
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()
    assert (
        page.evaluate("() => document.querySelector('main').getBoundingClientRect().width") == 390
    )
    page.context.close()
