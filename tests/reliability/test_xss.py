"""Item 6, XSS: a hostile reply, streamed and then reloaded from the store, renders inert in
Debian's Chromium; its links open outside the app's page."""

from __future__ import annotations

import pytest

from tests.browser_support import screenshot

pytestmark = pytest.mark.browser

# Each line tries another way to run `window.__pwned = …` from the model's output. The last
# one leaves a <style> open, which swallows the rest of the document: it goes last.
HOSTILE_REPLY = """Here is some **formatting**, then trouble.

<img src=x onerror="window.__pwned='img-onerror'">

<script>window.__pwned='script-tag'</script>

[a markdown javascript link](javascript:window.__pwned='md-link')

<a href="javascript:window.__pwned='html-link'">an html javascript link</a>

<a href="JaVaScRiPt&colon;window.__pwned='entity-link'">an encoded javascript link</a>

<svg onload="window.__pwned='svg-onload'"><circle r="5"/></svg>

<iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>

<details open ontoggle="window.__pwned='details-ontoggle'"><summary>s</summary>x</details>

<form action="javascript:window.__pwned='form'"><button>go</button></form>

<object data="javascript:window.__pwned='object'"></object><embed src="javascript:1">

<input autofocus onfocus="window.__pwned='autofocus'">

<meta http-equiv="refresh" content="0;url=javascript:window.__pwned='meta'">

![an image](x" onerror="window.__pwned='md-image')

<div style="position:fixed;inset:0;background:red" onclick="window.__pwned='overlay'">cover</div>

```html
<script>window.__pwned='code-block'</script>
```

[a safe link](https://example.org/docs) and <a href="https://example.com/raw">a raw one</a>.

<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'">
"""

SANITISER = "/vendor/dompurify/purify.es.mjs"
DANGEROUS_NODES = "script, iframe, object, embed, form, meta, style, base, link, frame"
INSPECT = """(root) => {
  const found = [];
  for (const node of root.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (attr.name.startsWith("on")) found.push(node.tagName + " " + attr.name);
      if (/^(javascript|vbscript|data:text\\/html)/.test(value)) found.push(node.tagName);
      if (attr.name === "style") found.push(node.tagName + " style");
    }
  }
  return found;
}"""


def tokens(text: str, size: int = 12) -> list[str]:
    """The reply in small pieces, so half-written tags reach the live renderer."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def assert_inert(page, reply) -> None:
    content = reply.locator("[data-testid=message-content]")
    assert content.locator(DANGEROUS_NODES).count() == 0
    assert content.evaluate(INSPECT) == []
    assert page.evaluate("window.__pwned") is None
    # DOMPurify parses the hostile markup in an inert DOMParser document, where Chromium
    # reports (and blocks) the inline handlers it meets: reports from that parse are the
    # sanitiser at work. Any other report would mean a handler reached the live page.
    reports = page.evaluate("window.__violations")
    assert reports, "the hostile markup never reached the sanitiser"
    assert [r for r in reports if not r["source"].endswith(SANITISER)] == []
    assert page.dialogs == []
    # The code block shows the markup as text.
    assert "<script>window.__pwned='code-block'</script>" in content.locator("pre").inner_text()
    for text in ("a markdown javascript link", "an html javascript link", "an encoded"):
        link = content.get_by_text(text)
        if link.count():
            link.first.click()
    assert page.evaluate("window.__pwned") is None


def test_a_hostile_reply_renders_inert_live_and_from_the_store(launch, fake_ollama, open_ui):
    fake_ollama.tokens, fake_ollama.token_delay = tokens(HOSTILE_REPLY), 0.005
    app = launch()
    page = open_ui(app)
    page.context.route("https://example.*/**", lambda route: route.fulfill(body="outside"))
    page.get_by_test_id("composer-input").fill("Show me some HTML")
    page.get_by_test_id("composer-input").press("Enter")
    reply = page.locator("[data-testid=message][data-role=assistant][data-status=complete]")
    reply.wait_for(timeout=20000)
    assert_inert(page, reply)
    screenshot(page, "xss-reply-live.png")

    # Links leave the app's page alone: they open a new, unrelated browsing context.
    app_url = page.url
    for name in ("a safe link", "a raw one"):
        link = reply.get_by_role("link", name=name)
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in link.get_attribute("rel")
        with page.context.expect_page() as popup_info:
            link.click()
        popup = popup_info.value
        popup.wait_for_load_state()
        assert popup.url.startswith("https://example.")
        assert popup.evaluate("window.opener") is None
        popup.close()
    assert page.url == app_url

    page.reload()
    page.wait_for_selector("body[data-ready='true'][data-ws='open']")
    page.dialogs.clear()
    reply = page.locator("[data-testid=message][data-role=assistant][data-status=complete]")
    if not reply.count():  # the app did not reopen it: open it from the sidebar
        page.get_by_test_id("conversation-open").first.click()
    reply.wait_for(timeout=10000)
    assert_inert(page, reply)
    screenshot(page, "xss-reply-stored.png")
