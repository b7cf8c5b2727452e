"""Images in Debian's Chromium: attached by the button, by a paste and by a drop; removable
thumbnails in the composer; a sent message's thumbnails opening a larger view that Escape
closes; limits said in words with the typed text kept; a model that cannot see refused in
words; the composer on a phone and a desktop, light and dark, with no serious axe-core
violation. Screenshots land in test-artifacts/ (people look at them)."""

from __future__ import annotations

import base64
import copy
import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.fake_ollama import VISION_MODEL
from tests.image_files import png
from tests.test_images import Rest
from tests.test_ui_layout import AXE_RUN, SCREENS, SMALL_TARGETS, open_page, shot

pytestmark = [pytest.mark.browser, needs_chromium]

VISION = VISION_MODEL["name"]
RED, BLUE = png(64, 48, (220, 40, 40)), png(48, 64, (40, 60, 220))

# A paste or a drop of files, as the browser makes them (DataTransfer with File objects).
FILES_EVENT = """([kind, target, files]) => {
  const transfer = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  const node = document.querySelector(target);
  if (kind === 'paste') {
    node.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true,
                                                     cancelable: true }));
  } else {
    for (const type of ['dragenter', 'dragover', 'drop']) {
      node.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true,
                                               cancelable: true }));
    }
  }
}"""


def file(name: str, data: bytes, mime: str = "image/png") -> list[str]:
    return [name, mime, base64.b64encode(data).decode("ascii")]


@pytest.fixture
def vision(fake_ollama) -> None:
    fake_ollama.models.insert(0, copy.deepcopy(VISION_MODEL))


def open_chat(browser, runtime, screen=None, scheme="light", model=VISION):
    page = open_page(browser, runtime, screen or {"width": 1280, "height": 900}, scheme)
    page.get_by_test_id("model-select").select_option(model)
    return page


def attached(page):
    return page.get_by_test_id("attachment")


def test_button_paste_and_drop_attach_and_the_sent_thumbnails_open_large(
    browser, runtime, fake_ollama, vision
):
    page = open_chat(browser, runtime)
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "red.png", "mimeType": "image/png", "buffer": RED}]
    )
    expect(attached(page)).to_have_count(1)
    page.evaluate(FILES_EVENT, ["paste", "#composer-input", [file("blue.png", BLUE)]])
    page.evaluate(FILES_EVENT, ["drop", "#chat", [file("dropped.png", RED)]])
    expect(attached(page)).to_have_count(3)
    expect(attached(page).and_(page.locator("[data-state=ready]"))).to_have_count(3)
    # Removable from the keyboard, by a labelled button.
    remove = page.get_by_role("button", name="Remove image 3 (dropped.png)")
    remove.focus()
    page.keyboard.press("Enter")
    expect(attached(page)).to_have_count(2)
    page.get_by_test_id("composer-input").fill("What colours are these?")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("message").filter(has_text="The sky")).to_have_count(1)
    expect(attached(page)).to_have_count(0)
    streamed = [r for r in fake_ollama.chat_requests if r.get("stream", True)]
    sent = streamed[-1]["messages"][-1]  # not the title's request that follows
    assert sent["images"] == [base64.b64encode(d).decode("ascii") for d in (RED, BLUE)]
    thumbs = page.get_by_test_id("message-image")
    expect(thumbs).to_have_count(2)
    # After a reload the thumbnails come from the store, under the token.
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    thumbs = page.get_by_test_id("message-image")
    expect(thumbs).to_have_count(2)
    first = thumbs.first.locator("img")
    expect(first).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 64", arg=first.element_handle()
    )
    thumbs.first.click()
    viewer = page.get_by_test_id("image-viewer")
    expect(viewer).to_be_visible()
    shot(page, "images-viewer-1280-light")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    # An edit keeps the images, on screen and for the model.
    user = page.get_by_test_id("message").and_(page.locator("[data-role=user]"))
    user.hover()
    user.get_by_test_id("message-edit").click()
    page.get_by_test_id("edit-input").fill("Which is warmer?")
    page.get_by_test_id("edit-save").click()
    expect(page.get_by_test_id("message").filter(has_text="Which is warmer?")).to_have_count(1)
    expect(page.get_by_test_id("message-image")).to_have_count(2)
    expect(page.get_by_test_id("message").filter(has_text="The sky")).to_have_count(1)
    streamed = [r for r in fake_ollama.chat_requests if r.get("stream", True)]
    assert streamed[-1]["messages"][-1]["content"] == "Which is warmer?"
    assert len(streamed[-1]["messages"][-1]["images"]) == 2
    page.context.close()


def test_limits_are_said_in_words_and_the_typed_text_stays(browser, runtime, vision):
    page = open_chat(browser, runtime)
    page.get_by_test_id("composer-input").fill("Keep me")
    big = file("huge.png", png())
    big_event = """([b64]) => {
      const transfer = new DataTransfer();
      const head = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([head, new Uint8Array(10 * 1024 * 1024)], 'huge.png',
                                  { type: 'image/png' }));
      document.querySelector('#composer-input').dispatchEvent(new ClipboardEvent('paste',
        { clipboardData: transfer, bubbles: true, cancelable: true }));
    }"""
    page.evaluate(big_event, [big[2]])
    expect(page.get_by_test_id("toast")).to_contain_text("huge.png is larger than 10 MiB")
    # Bytes that are no image, whatever the name and type say: the backend's word.
    page.evaluate(FILES_EVENT, ["paste", "#composer-input", [file("fake.png", b"<svg/>")]])
    expect(page.get_by_test_id("toast").last).to_contain_text("fake.png was not attached")
    expect(page.get_by_test_id("toast").last).to_contain_text("PNG, JPEG, WebP and GIF")
    expect(attached(page)).to_have_count(0)
    five = [file(f"p{i}.png", RED) for i in range(5)]
    page.evaluate(FILES_EVENT, ["paste", "#composer-input", five])
    expect(attached(page)).to_have_count(4)
    expect(page.get_by_test_id("toast").last).to_contain_text("at most 4 images")
    expect(page.get_by_test_id("composer-input")).to_have_value("Keep me")
    page.context.close()


def test_a_model_that_cannot_see_is_refused_in_words(browser, runtime, fake_ollama, vision):
    page = open_chat(browser, runtime, model="llama3.2:latest")
    page.evaluate(FILES_EVENT, ["paste", "#composer-input", [file("red.png", RED)]])
    expect(attached(page).and_(page.locator("[data-state=ready]"))).to_have_count(1)
    page.get_by_test_id("composer-input").fill("What is this?")
    page.get_by_test_id("composer-input").press("Enter")
    note = page.get_by_test_id("message-note")
    expect(note).to_contain_text("llama3.2:latest cannot see images")
    expect(page.get_by_test_id("composer-input")).to_have_value("What is this?")
    expect(attached(page)).to_have_count(1)  # the image is given back too
    assert fake_ollama.chat_requests == []
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_the_composer_with_thumbnails_fits_and_axe_finds_nothing_serious(
    browser, runtime, vision, screen, scheme
):
    page = open_chat(browser, runtime, screen, scheme)
    page.evaluate(
        FILES_EVENT, ["paste", "#composer-input", [file("a.png", RED), file("b.png", BLUE)]]
    )
    expect(attached(page).and_(page.locator("[data-state=ready]"))).to_have_count(2)
    page.get_by_test_id("composer-input").fill("Compare the two")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("message-image")).to_have_count(2)
    page.evaluate(FILES_EVENT, ["paste", "#composer-input", [file("c.png", BLUE)]])
    expect(attached(page).and_(page.locator("[data-state=ready]"))).to_have_count(1)
    composer = page.get_by_test_id("composer")
    fits = "c => c.scrollWidth <= c.clientWidth && c.getBoundingClientRect().right <= innerWidth"
    assert composer.evaluate(fits)
    if screen["width"] < 500:  # every control of the composer finger-sized on a phone
        assert page.evaluate(SMALL_TARGETS, ".composer-wrap") == []
    shot(page, f"images-composer-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    page.context.close()


def test_a_paired_phone_says_in_words_that_it_cannot_attach(
    browser, remote_runtime, fake_ollama, vision
):
    rt = remote_runtime
    rest = Rest(rt)
    # A message with an image, sent from the desktop.
    image = rest("POST", "images", data=RED).json()
    created = rest("POST", "conversations", {"title": "Pictures"}).json()
    rt.services.store.add_message(created["id"], "user", "Look", images=[image["id"]])
    pair_url = rest("POST", "remote/pairings").json()["pair_url"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(pair_url)
    page.fill("#device-name", "Phone")
    page.click("#pair-button")
    expect(page.locator("#short-code")).to_have_text(re.compile(r"^\d{6}$"))
    [device] = rest("GET", "remote/devices").json()["devices"]
    assert rest("POST", f"remote/devices/{device['id']}/approve").status_code == 200
    expect(page.locator("body")).to_have_attribute("data-ws", "open", timeout=20_000)
    expect(page.get_by_test_id("attach-button")).to_be_hidden()
    page.evaluate(FILES_EVENT, ["paste", "#composer-input", [file("red.png", RED)]])
    expect(page.get_by_test_id("toast")).to_contain_text(
        "Images can't be sent from a paired phone: attach them on the desktop."
    )
    expect(attached(page)).to_have_count(0)
    page.click("#toggle-sidebar")  # the chat list is a drawer on a phone
    page.get_by_test_id("conversation-list").get_by_text("Pictures").click()
    expect(page.get_by_test_id("message-image")).to_contain_text("Image: shown on the desktop")
    shot(page, "images-phone-390-light")
    context.close()
