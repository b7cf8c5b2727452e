"""A reply streamed in small pieces renders exactly as the whole reply rendered at once
(sanitised and highlighted as ever), while finished blocks keep their DOM and the open
block is patched in place. Debian's Chromium via Playwright; behaviour only, no timings."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import needs_chromium, open_app, screenshot

pytestmark = [pytest.mark.browser, needs_chromium]
REPLY = "[data-testid=message][data-role=assistant]"

# Code fences opened and closed across pieces, a table growing row by row, nested lists with
# a fence inside, HTML that must be sanitised, a reference link, Windows line ends.
TRICKY = """Intro with <b>bold HTML</b>, <img src="x" onerror="alert(1)"> and \
<script>alert(2)</script> then `inline()` and a [ref link][docs].

```python
def double(x):
    return x * 2


print(double(3))
```

| name | value |
|---|:---:|
| alpha | `1` |
| beta | **2** |
| gamma | 3 |

- level one
  - level two
    1. ordered three
    2. ordered four
  - back to two

    ```js
    const insideList = true;
    ```
- last with <a href="javascript:alert(3)">a bad link</a> and [a good one](https://example.com)

<div onclick="alert(4)" style="color:red">an HTML block <iframe src="https://example.com"></iframe></div>

~~~
plain fence, no language
~~~

[docs]: https://example.com/docs

Windows\r\nline ends\r\n\r\nend.
"""


# Maths as models write it: inline, prices, displayed on lines of their own (one of them with
# lines that would start a list or a heading were the formula not open), in a list, a bad
# formula, code that keeps its dollars, and "$$" that never closes.
MATHS = r"""Euler: $e^{i\pi} + 1 = 0$, while $5 and $10 are prices; \(x_1\) is maths too.

$$
\begin{aligned}
a &= b + c \\
- d &= e
\end{aligned}
$$

- a list with $\sqrt{2}$
- and \[ \frac{a}{b} \]

\[
\sum_{k=1}^{n} k = \frac{n(n+1)}{2}
\]

$$x^2
+ y^2
= 1$$

A bad one $\frac{1}{$ and `$code$` and

```sh
echo "$HOME costs $5"
```

$$ never closed, so text
"""


def pieces(text: str) -> list[str]:
    """Uneven pieces, 1 to 9 characters, as a model's tokens fall (a "\\r\\n" is split too)."""
    out, i, n = [], 0, 0
    while i < len(text):
        size = 1 + (n * 7) % 9
        out += text[i : i + size].replace("\r\n", "\r\0\n").split("\0")
        i, n = i + size, n + 1
    return [p for p in out if p]


# In the page: stream the pieces into one container and, after every piece, compare it with
# the text so far rendered whole into another (code compared by text: auto-detected
# highlighting of code without a language waits for idle time). Then finish, let the idle
# work run, and compare exactly. Also records whether nodes were rebuilt when they need not be.
STREAM_AND_COMPARE = """async (pieces) => {
  const { MarkdownStream } = await import("/js/mdstream.js");
  const { renderMarkdown } = await import("/js/render.js");
  const plain = (box) => {
    const copy = box.cloneNode(true);
    for (const code of copy.querySelectorAll("pre > code")) {
      code.textContent = code.textContent;
      code.classList.remove("hljs");
    }
    return copy.innerHTML;
  };
  const idle = () => new Promise((r) => setTimeout(() => requestIdleCallback(r), 700));
  const streamed = document.createElement("div");
  const whole = document.createElement("div");
  document.body.append(streamed, whole);
  const stream = new MarkdownStream(streamed);
  const mismatches = [];
  let text = "";
  let firstBlock = null;
  let pythonPre = null;
  let pythonPreReplaced = false;
  for (const piece of pieces) {
    stream.append(piece);
    text += piece;
    renderMarkdown(whole, text);
    const [got, want] = [plain(streamed), plain(whole)];
    if (got !== want) mismatches.push([text.length, got, want]);
    firstBlock ??= streamed.firstElementChild?.firstElementChild;
    const pre = streamed.querySelector("code.language-python")?.parentElement;
    if (pre && pythonPre && pre !== pythonPre) pythonPreReplaced = true;
    pythonPre = pre || pythonPre;
  }
  stream.finish(text, text);
  await idle();
  await idle();
  renderMarkdown(whole, text);
  await idle();
  return {
    checked: pieces.length,
    mismatches: mismatches.slice(0, 3),
    finalSame: streamed.innerHTML === whole.innerHTML,
    firstBlockKept: streamed.firstElementChild?.firstElementChild === firstBlock,
    sections: [...streamed.children].map((s) => s.className + ":" + s.children.length),
    pythonPreReplaced,
    finalHtml: streamed.innerHTML,
  };
}"""


def test_a_streamed_reply_is_the_whole_render_at_every_piece_and_at_the_end(browser, runtime):
    page = open_app(browser, runtime)
    chunks = pieces(TRICKY)
    result = page.evaluate(STREAM_AND_COMPARE, chunks)

    assert result["checked"] == len(chunks) > 100
    assert result["mismatches"] == []
    assert result["finalSame"]
    # Built once: the first block stayed the same element to the end (no whole re-render
    # after the last piece either), and the growing code block was patched, not replaced.
    assert result["firstBlockKept"]
    assert not result["pythonPreReplaced"]
    html = result["finalHtml"]
    for unsafe in ("<script", "onerror", "onclick", "javascript:", "<iframe", "style="):
        assert unsafe not in html
    assert 'class="language-python hljs"' in html
    assert "<table>" in html and html.count("<tr>") == 4
    assert 'href="https://example.com/docs"' in html
    page.context.close()


# Sixty-two blocks: paragraphs, headings, lists and code, some ending across a section's edge.
LONG = "\n\n".join(
    f"## Part {i}"
    if i % 7 == 0
    else f"- item {i}\n- more {i}"
    if i % 5 == 0
    else f"```\ncode {i}\n```"
    if i % 11 == 0
    else f"Paragraph {i} with *some* text."
    for i in range(1, 63)
)


def test_a_long_reply_streams_into_the_same_sections_as_its_whole_render(browser, runtime):
    page = open_app(browser, runtime)
    chunks = pieces(LONG)
    result = page.evaluate(STREAM_AND_COMPARE, chunks)

    assert result["mismatches"] == []
    assert result["finalSame"]
    assert result["firstBlockKept"]
    # 24 in each section but the last, and nothing outside a section.
    assert result["sections"] == ["md-section:24", "md-section:24", "md-section:14"]
    page.context.close()


# The reply as the page shows it, rendered whole once it has been idle (the final check).
SAME_AS_WHOLE = """async (body, text) => {
  const { renderMarkdown } = await import("/js/render.js");
  const whole = document.createElement("div");
  renderMarkdown(whole, text);
  await new Promise((r) => setTimeout(() => requestIdleCallback(r), 700));
  return body.innerHTML === whole.innerHTML;
}"""


def stream_through_app(page, fake_ollama, text: str, ready: str, count: int):
    """Send a message, the fake model answering `text` in pieces; the reply's body once
    complete with `count` of `ready` in it, and after its idle work (highlighting, the
    final check)."""
    fake_ollama.tokens = pieces(text)
    page.get_by_test_id("model-select").select_option("llama3.2:latest")
    box = page.get_by_test_id("composer-input")
    box.fill("Show me everything at once")
    box.press("Enter")
    reply = page.locator(REPLY).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=15_000)
    body = reply.get_by_test_id("message-content")
    expect(body.locator(ready)).to_have_count(count)
    page.wait_for_timeout(1500)
    return body


def test_a_reply_streamed_through_the_app_ends_as_its_whole_render(browser, runtime, fake_ollama):
    page = open_app(browser, runtime)
    body = stream_through_app(page, fake_ollama, TRICKY, "table tbody tr", 3)
    assert body.evaluate(SAME_AS_WHOLE, TRICKY)
    expect(body.locator("script, iframe, [onerror], [onclick]")).to_have_count(0)
    expect(body.locator("code.language-python.hljs")).to_have_count(1)
    body.locator("table").scroll_into_view_if_needed()
    screenshot(page, "stream-render-tricky.png")
    page.context.close()


# While streaming, a formula is typeset only once whole: every formula shown after every
# piece is one of the final render's (a half-typed one would differ).
NO_HALF_FORMULAS = """async ([pieces, text]) => {
  const { MarkdownStream } = await import("/js/mdstream.js");
  const { renderMarkdown } = await import("/js/render.js");
  const whole = document.createElement("div");
  renderMarkdown(whole, text);
  const final = new Set([...whole.querySelectorAll(".math-tex")].map((n) => n.innerHTML));
  const box = document.createElement("div");
  document.body.append(box);
  const stream = new MarkdownStream(box);
  const half = [];
  pieces.forEach((piece, i) => {
    stream.append(piece);
    for (const n of box.querySelectorAll(".math-tex")) {
      if (!final.has(n.innerHTML)) half.push([i, n.textContent]);
    }
  });
  return { half: half.slice(0, 3), formulas: final.size };
}"""


def test_streamed_maths_is_the_whole_render_at_every_piece_and_never_half_typeset(browser, runtime):
    page = open_app(browser, runtime, color_scheme="dark")
    chunks = pieces(MATHS)
    result = page.evaluate(STREAM_AND_COMPARE, chunks)
    assert result["checked"] == len(chunks)
    assert result["mismatches"] == []
    assert result["finalSame"]
    assert result["firstBlockKept"]
    html = result["finalHtml"]
    assert html.count('class="katex-display"') == 4 and html.count('class="katex"') == 7
    assert html.count('class="math-error"') == 1
    assert "<p>$$ never closed, so text</p>" in html
    code = html.split("<pre")[1].split("</pre>")[0]
    assert "$HOME" in code and "katex" not in code
    halves = page.evaluate(NO_HALF_FORMULAS, [chunks, MATHS])
    assert halves == {"half": [], "formulas": 8}
    page.context.close()


def test_maths_streamed_through_the_app_ends_as_its_whole_render(browser, runtime, fake_ollama):
    page = open_app(browser, runtime, color_scheme="dark")
    body = stream_through_app(page, fake_ollama, MATHS, ".katex-display", 4)
    assert body.evaluate(SAME_AS_WHOLE, MATHS)
    body.locator(".katex-display").first.scroll_into_view_if_needed()
    screenshot(page, "stream-render-maths.png")
    page.context.close()
