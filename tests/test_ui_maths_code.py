"""Maths typeset by the vendored KaTeX (prices and code left alone, a bad formula shown as
code), code blocks with Download and line numbers, and code in a user's message in a code
font. Debian's Chromium via Playwright, at phone and desktop width, light and dark."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import needs_chromium
from tests.test_ui_layout import AXE_RUN, SCREENS, export, open_page, seed, shot

pytestmark = [pytest.mark.browser, needs_chromium]

CODE_LINES = [
    "import math",
    "",
    "def area(r):",
    "    return math.pi * r ** 2  # the area of a circle of radius r, in the units of r squared",
    "print(area(2))",
]
REPLY = (
    "Inline $E = mc^2$ and \\(a^2 + b^2 = c^2\\), while $5 and $10 stay prices.\n\n"
    "$$\n\\int_0^1 x^2 \\, dx = \\frac{1}{3}\n$$\n\n"
    "\\[ \\sum_{n=1}^{\\infty} \\frac{1}{n^2} = \\frac{\\pi^2}{6} \\]\n\n"
    "A broken one: $\\frac{1}{$ stays as written.\n\n"
    "In code, `$x$` is not maths, nor is:\n\n"
    "```python\n" + "\n".join(CODE_LINES) + "\n```\n\n"
    "```\nprice = $5 + $6\n```\n"
)
USER = (
    "Why does `ls -la` fail here?\n```bash\necho $HOME\nls -la /root\n```\n"
    "*not emphasis* and # not a heading"
)


def conversation(runtime) -> str:
    document = export(title="Maths and code", reply=REPLY)
    document["conversations"][0]["messages"][0]["content"] = USER
    return seed(runtime, document)


REPLY_BODY = "article.message.assistant [data-testid=message-content]"


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_maths_is_typeset_prices_and_code_are_not_and_axe_is_content(
    browser, runtime, screen, scheme
):
    page = open_page(browser, runtime, screen, scheme, conversation(runtime))
    body = page.locator(REPLY_BODY)
    expect(body.locator(".math-inline .katex")).to_have_count(2)
    expect(body.locator(".math-display .katex-display")).to_have_count(2)
    # KaTeX's own fonts, served by the app (the CSP allows no other origin).
    fonts = """async () => (await document.fonts.ready, [...document.fonts]
      .filter((f) => f.status === "loaded").map((f) => f.family.replaceAll('"', "")))"""
    assert {"KaTeX_Main", "KaTeX_Math"} <= set(page.evaluate(fonts))
    # Screen readers get MathML; the TeX annotation is dropped by the sanitiser.
    assert body.locator(".math-inline math").count() == 2
    assert body.locator("annotation").count() == 0
    first = body.locator("p").first
    first.scroll_into_view_if_needed()
    assert "while $5 and $10 stay prices." in first.inner_text()
    bad = body.locator("code.math-error")
    expect(bad).to_have_text("\\frac{1}{")
    assert "KaTeX parse error" in bad.get_attribute("title")
    # No maths inside code: the code span and both blocks keep their dollars as text.
    assert body.locator("p code:not(.math-error)").first.inner_text() == "$x$"
    assert body.locator("pre .katex").count() == 0
    assert "price = $5 + $6" in body.locator("pre").last.text_content()
    # Sanitised: nothing KaTeX makes may run or link.
    html = body.inner_html()
    for unsafe in ("<script", "onerror", "onclick", "javascript:", "href="):
        assert unsafe not in html
    page.locator(".math-display").first.scroll_into_view_if_needed()
    shot(page, f"maths-{screen['width']}-{scheme}")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_RUN) == []
    page.context.close()


SELECTED_TEXT = """(pre) => {
  const range = document.createRange();
  range.selectNodeContents(pre);
  const selection = getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return selection.toString();
}"""


# A code line's rows of text, and whether all of them start right of the line-number gutter.
ROWS = """(line) => {
  const range = document.createRange();
  range.selectNodeContents(line);
  const rects = [...range.getClientRects()].filter((r) => r.width > 0);
  const gutter = line.getBoundingClientRect().left + parseFloat(getComputedStyle(line).paddingLeft);
  return {
    rows: new Set(rects.map((r) => Math.round(r.top))).size,
    inside: rects.every((r) => r.left >= gutter - 0.5),
  };
}"""


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_code_blocks_number_their_lines_and_download_as_a_file(browser, runtime, screen, scheme):
    page = open_page(browser, runtime, screen, scheme, conversation(runtime))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    block = page.locator(f"{REPLY_BODY} .code-block").first
    block.scroll_into_view_if_needed()
    code_text = "\n".join(CODE_LINES) + "\n"
    pre = block.locator("pre")
    # Numbered (five lines), yet the numbers are in neither the text, a selection, the copied
    # text nor what a screen reader is given.
    expect(block).to_have_class("code-block numbered")
    lines = pre.locator(".line")
    expect(lines).to_have_count(5)
    number = "l => getComputedStyle(l, '::before').content"
    assert lines.nth(4).evaluate(number).startswith("counter(line)")
    assert pre.text_content() == code_text
    assert pre.evaluate(SELECTED_TEXT) == code_text.rstrip("\n")  # a selection drops the last end
    assert "1" not in pre.aria_snapshot()
    block.get_by_test_id("code-copy").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == code_text
    shot(page, f"code-numbered-{screen['width']}-{scheme}")

    # Download gives the code as a file named for its language; the block without one is .txt.
    download_button = block.get_by_test_id("code-download")
    assert download_button.get_attribute("aria-label") == "Download code as snippet.py"
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename == "snippet.py"
    with open(download.path(), encoding="utf-8") as saved:
        assert saved.read() == code_text
    plain = page.locator(f"{REPLY_BODY} .code-block").nth(1)
    assert plain.get_by_test_id("code-download").get_attribute("data-filename") == "snippet.txt"
    expect(plain).to_have_class("code-block")  # one line: no numbers

    # Keyboard: from Wrap, Tab reaches Lines and Download; Space and Enter work them.
    wrap = block.get_by_test_id("code-wrap")
    wrap.focus()
    page.keyboard.press("Space")
    expect(wrap).to_have_attribute("aria-pressed", "true")
    assert pre.evaluate("p => p.scrollWidth <= p.clientWidth")  # wrapped, numbered still
    expect(block).to_have_class("code-block numbered wrapped")
    # The long line wraps beside its number: every row of it starts right of the gutter.
    wrapped = lines.nth(3).evaluate(ROWS)
    assert wrapped["inside"] and (wrapped["rows"] > 1 or screen["width"] > 1000)
    shot(page, f"code-wrapped-numbered-{screen['width']}-{scheme}")
    page.keyboard.press("Tab")
    toggle = block.get_by_test_id("code-lines")
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(block).to_have_class("code-block wrapped")
    assert lines.nth(4).evaluate(number) == "none"
    page.keyboard.press("Tab")
    expect(download_button).to_be_focused()
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert info.value.suggested_filename == "snippet.py"
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_code_in_a_user_message_is_in_a_code_font_and_the_rest_stays_plain(
    browser, runtime, screen, scheme
):
    page = open_page(browser, runtime, screen, scheme, conversation(runtime))
    bubble = page.locator("article.message.user [data-testid=message-content]")
    bubble.scroll_into_view_if_needed()
    inline = bubble.locator("code.user-code")
    expect(inline).to_have_text("ls -la")
    block = bubble.locator(".code-block")
    expect(block.locator("pre code.language-bash")).to_have_text("echo $HOME\nls -la /root\n")
    expect(block.get_by_test_id("code-copy")).to_be_visible()
    mono = "e => getComputedStyle(e).fontFamily"
    assert "mono" in inline.evaluate(mono).lower()
    assert inline.evaluate(mono) == block.locator("pre code").evaluate(mono)
    assert "mono" not in bubble.evaluate(mono).lower()
    # The user's own words are not Markdown: no emphasis, no heading, no maths.
    assert "*not emphasis* and # not a heading" in bubble.inner_text()
    assert bubble.locator("em, h1, .katex").count() == 0
    shot(page, f"user-code-{screen['width']}-{scheme}")
    page.context.close()
