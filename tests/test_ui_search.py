"""Search in Debian's Chromium: snippets that read as text and always show the match, and a
result that takes the reader to the match (scrolled to, marked, focused), in a long
conversation and on a version of a reply that is not shown; at 390 and 1920 px, light and
dark, with axe-core on the results list."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from backend.core.store.search_text import highlight, parse_query
from tests.browser_support import needs_chromium
from tests.test_ui_layout import DESKTOP, PHONE, open_page, shot

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENS = [
    pytest.param(PHONE, "dark", id="390-dark"),
    pytest.param(DESKTOP, "light", id="1920-light"),
]
LONG = "Model shoot-out"


def section(i: int) -> str:
    words = " ".join(f"filler{i}w{j}" for j in range(40))
    code = "".join(f"    total_{j} = compute(item_{j}, limit={i * j})\n" for j in range(14))
    return f"## Part {i}\n\nParagraph {i}: {words}.\n\n```python\ndef part_{i}():\n{code}```\n\n"


# The match is the last row of a table at the end of a long reply, far down the message.
VERDICT = (
    "| Model | Average | Verdict |\n|:--|--:|:-:|\n| llama3 | 4.2 s | **slow** |\n"
    "| quokka-7b | 1.1 s | **fastest** |\n"
)


def long_conversation(exchanges: int = 90, hit_at: int = 3) -> dict:
    messages = []
    for i in range(exchanges):
        messages.append({"role": "user", "content": f"Question {i}: how does part {i} work?"})
        reply = f"Answer {i}.\n\n" + "".join(section(k) for k in range(3))
        messages.append({"role": "assistant", "content": reply + (VERDICT if i == hit_at else "")})
    return {"title": LONG, "updated_at": "2026-03-03T10:00:00Z", "messages": messages}


SHORT = [
    {
        "title": "Hyphen-heavy notes",
        "updated_at": "2026-03-02T10:00:00Z",
        "messages": [
            {"role": "user", "content": "Summarise it"},
            {
                "role": "assistant",
                # One long word right before the match: cut, or it pushes the match away.
                "content": "See the *full* Pneumonoultramicroscopicsilicovolcanoconiosis"
                "AndOtherVeryLongWords quokka colony story.",
            },
        ],
    },
    {
        "title": "Emphasis",
        "updated_at": "2026-03-01T10:00:00Z",
        "messages": [
            {"role": "user", "content": "Tell me"},
            {"role": "assistant", "content": "The **quokka** is ~~not~~ a _marsupial_? It is."},
        ],
    },
]


def api(runtime, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    return requests.request(method, runtime.url + path, headers=headers, timeout=10, **kwargs)


def seed(runtime, conversations: list[dict]) -> list[dict]:
    document = {"format": "cloudtolocalllm-export", "version": 1, "conversations": conversations}
    response = api(runtime, "POST", "api/import", data=json.dumps(document))
    assert response.status_code == 201, response.text
    return response.json()["conversations"]


def search_for(page, text: str):
    if not page.locator("#sidebar").is_visible():
        page.locator("#toggle-sidebar").click()
    box = page.get_by_test_id("conversation-search")
    box.fill(text)
    return box


# Every snippet's first match lies inside the snippet's visible (clamped) box.
MARKS_IN_VIEW = """() => [...document.querySelectorAll('[data-testid=search-result-snippet]')]
  .map((snippet) => {
    const mark = snippet.querySelector('mark');
    if (!mark) return 'no mark: ' + snippet.textContent;
    const box = snippet.getBoundingClientRect();
    const m = mark.getBoundingClientRect();
    return m.bottom <= box.bottom + 1 && m.top >= box.top - 1 && m.width > 0
      ? 'ok' : 'hidden: ' + snippet.textContent;
  })"""

# The text of each range of the search-hit highlight, and whether the first is on screen.
HIGHLIGHTS = """() => {
  const hit = CSS.highlights.get('search-hit');
  if (!hit) return { texts: [], visible: false };
  const ranges = [...hit];
  const box = ranges[0].getBoundingClientRect();
  const view = document.getElementById('messages').getBoundingClientRect();
  return {
    texts: ranges.map((r) => r.toString()),
    visible: box.height > 0 && box.top >= view.top && box.bottom <= view.bottom,
  };
}"""

AXE_ON_RESULTS = """async () => {
  const result = await axe.run('#search-results', { resultTypes: ['violations'] });
  return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
}"""


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_snippets_read_as_text_and_show_the_match(browser, runtime, screen, scheme):
    seed(runtime, [long_conversation(), *SHORT])
    page = open_page(browser, runtime, screen, scheme)
    search_for(page, "quokka")
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(3)
    snippets = page.get_by_test_id("search-result-snippet")
    texts = [t.strip() for t in snippets.all_inner_texts()]
    for text in texts:
        for markup in ("|", "**", "~~", "```", ":-:"):
            assert markup not in text, text
    assert any("quokka-7b 1.1 s fastest" in t for t in texts), texts
    assert any("The quokka is not a marsupial? It is." in t for t in texts), texts
    assert page.evaluate(MARKS_IN_VIEW) == ["ok"] * 3
    expect(snippets.locator("mark").first).to_have_text("quokka")
    page.add_script_tag(url="vendor/axe-core/axe.min.js")
    assert page.evaluate(AXE_ON_RESULTS) == []
    shot(page, f"search-results-{screen['width']}-{scheme}")
    page.context.close()


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_a_result_takes_you_to_the_match_in_a_long_conversation(browser, runtime, screen, scheme):
    seed(runtime, [long_conversation(), *SHORT])
    page = open_page(browser, runtime, screen, scheme)
    box = search_for(page, "quokka")
    result = page.get_by_test_id("search-result").filter(has_text=LONG)
    expect(result).to_have_count(1)
    result.click()
    expect(page.get_by_test_id("chat-title")).to_have_text(LONG)
    hit = page.locator("[data-testid=message][data-role=assistant]").filter(has_text="Answer 3.")
    # The reader lands on the match, not in the search box (a long wait: 180 messages drawn).
    expect(hit).to_be_focused(timeout=20_000)
    highlights = page.evaluate(HIGHLIGHTS)
    assert highlights == {"texts": ["quokka"], "visible": True}
    shot(page, f"search-opened-{screen['width']}-{scheme}")

    # The query and the results stay, the opened one marked, until the search is cleared.
    if not page.locator("#sidebar").is_visible():
        page.locator("#toggle-sidebar").click()
    expect(box).to_have_value("quokka")
    expect(result).to_have_class("search-result open")
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()
    shot(page, f"search-kept-{screen['width']}-{scheme}")
    page.get_by_test_id("search-clear").click()
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    expect(page.get_by_test_id("conversation-item")).to_have_count(3)
    assert page.evaluate(HIGHLIGHTS)["texts"] == []
    page.context.close()


def test_escape_clears_the_search_and_the_marks(browser, runtime):
    seed(runtime, SHORT)
    page = open_page(browser, runtime, DESKTOP, "light")
    box = search_for(page, "marsupial")
    box.press("Enter")
    expect(page.get_by_test_id("chat-title")).to_have_text("Emphasis")
    assert page.evaluate(HIGHLIGHTS)["texts"] == ["marsupial"]
    box.focus()
    box.press("Escape")
    expect(box).to_have_value("")
    expect(page.get_by_test_id("conversation-item")).to_have_count(2)
    assert page.evaluate(HIGHLIGHTS)["texts"] == []
    page.context.close()


def regenerated(runtime) -> dict[str, str]:
    """A question answered twice; the newer answer is the one shown."""
    store = runtime.services.store
    cid = store.create_conversation("Seabirds")["id"]
    question = store.add_message(cid, "user", "Tell me about seabirds")
    old = store.add_message(cid, "assistant", "Albatrosses **glide** for hours on end.")
    new = store.add_message(cid, "assistant", "Puffins dive.", parent_id=question["id"])
    return {"conversation": cid, "old": old["id"], "new": new["id"]}


@pytest.mark.parametrize(("screen", "scheme"), SCREENS)
def test_a_hit_in_another_version_says_so_and_opens_that_version(browser, runtime, screen, scheme):
    ids = regenerated(runtime)
    page = open_page(browser, runtime, screen, scheme)
    search_for(page, "albatross glide")
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    expect(result).to_have_attribute("data-hidden-branch", "true")
    expect(result.get_by_test_id("search-result-version")).to_have_text("In another version")
    shot(page, f"search-other-version-{screen['width']}-{scheme}")
    result.click()
    shown = page.locator(f"[data-message-id='{ids['old']}']")
    expect(shown).to_be_focused(timeout=20_000)
    expect(page.locator(f"[data-message-id='{ids['new']}']")).to_have_count(0)
    assert page.evaluate(HIGHLIGHTS) == {"texts": ["Albatrosses", "glide"], "visible": True}
    conversation = api(runtime, "GET", f"api/conversations/{ids['conversation']}").json()
    assert conversation["messages"][-1]["id"] == ids["old"]
    page.context.close()


# The page marks what the backend matched: the same words, folding and prefixes.
MATCHES = """async (cases) => {
  const { findMatches } = await import('/js/searchhit.js');
  return cases.map(([text, q]) => findMatches(text, q).map(([a, b]) => text.slice(a, b)));
}"""


def test_the_page_marks_the_words_the_backend_matches(browser, runtime):
    page = open_page(browser, runtime, DESKTOP, "light")
    cases = [
        ("Penguins and pencils, a pen", "pen"),  # typed: a prefix
        ("C and C++ and Cobol", "C++"),  # ends in a symbol: whole words
        ("Café au lait, CAFE noir", "cafe"),  # case and accents ignored
        ("error python, python error", "error-python"),  # one piece: side by side
        ("a penguin, penguins", '"penguin"'),  # quoted: the whole word
        ("snow 🐧 and 🐧", "🐧"),  # no letters: the text as typed
    ]
    expected = [
        ["Penguins", "pencils", "pen"],
        ["C", "C"],
        ["Café", "CAFE"],
        ["error python"],
        ["penguin"],
        ["🐧", "🐧"],
    ]
    assert page.evaluate(MATCHES, cases) == expected
    page.context.close()
    for (text, q), words in zip(cases, expected, strict=True):
        phrases = parse_query(q)
        if phrases:  # the backend's excerpt marks the same words
            assert [piece for piece, mark in highlight(text, phrases) if mark] == words
