"""The token for headless and web modes: `open_url` in the ready line, and the single-use
launch code that `--web` hands the browser instead of the token."""

from __future__ import annotations

import pytest
import requests

from backend.web.security import LaunchCodes
from tests.browser_support import needs_chromium


def exchange(runtime, code, **kwargs) -> requests.Response:
    return requests.post(
        runtime.url + "api/session/exchange", json={"code": code}, timeout=5, **kwargs
    )


def code_of(url: str) -> str:
    return url.split("?code=", 1)[1]


def test_a_launch_code_gives_the_token_once(runtime):
    code = code_of(runtime.launch_url())
    first = exchange(runtime, code)
    assert first.status_code == 200
    assert first.json() == {"token": runtime.token}
    assert first.headers["Cache-Control"] == "no-store"
    again = exchange(runtime, code)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_code"


def test_every_launch_url_has_its_own_code_and_no_token(runtime):
    first, second = runtime.launch_url(), runtime.launch_url()
    assert first != second
    assert runtime.token not in first + second
    assert exchange(runtime, code_of(second)).status_code == 200
    assert exchange(runtime, code_of(first)).status_code == 200


def test_a_wrong_code_is_401_and_the_exchange_needs_no_token(runtime):
    runtime.launch_url()  # a live code exists: a wrong one still fails
    for wrong in ("nope", "é" * 10, code_of(runtime.launch_url())[:-1] + "?"):
        response = exchange(runtime, wrong)
        assert response.status_code == 401, wrong
    assert exchange(runtime, "").status_code == 400
    bad = requests.post(runtime.url + "api/session/exchange", data=b"[]", timeout=5)
    assert bad.status_code == 400


def test_the_exchange_refuses_another_origin(runtime):
    code = code_of(runtime.launch_url())
    foreign = exchange(runtime, code, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert exchange(runtime, code).status_code == 200  # the refused try did not spend it


def test_an_expired_code_is_refused():
    codes = LaunchCodes(lifetime_s=0.0)  # expired the moment it is issued
    assert not codes.redeem(codes.issue())
    live = LaunchCodes()
    code = live.issue()
    assert live.redeem(code) and not live.redeem(code)


def test_old_codes_make_way_when_too_many_are_live():
    codes = LaunchCodes()
    issued = [codes.issue() for _ in range(40)]
    assert not codes.redeem(issued[0])  # the oldest were dropped
    assert codes.redeem(issued[-1])


def test_the_ready_line_has_an_open_url_with_the_token(headless_app):
    app = headless_app()
    ready = app.ready
    assert ready["url"] == f"http://127.0.0.1:{ready['port']}/"
    assert ready["open_url"] == f"{ready['url']}?token={ready['token']}"
    health = requests.get(ready["open_url"].replace("/?", "/api/health?"), timeout=5)
    assert health.status_code == 200


@needs_chromium
@pytest.mark.browser
def test_the_page_works_after_the_exchange_and_cleans_its_address(browser, runtime):
    context = browser.new_context()
    page = context.new_page()
    page.goto(runtime.launch_url() + "#new")
    page.wait_for_selector("body[data-ws=open]", state="attached", timeout=15_000)
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=15_000)
    assert page.evaluate("location.search") == ""
    assert "code=" not in page.url and runtime.token not in page.url
    assert page.evaluate("sessionStorage.getItem('cloudtolocalllm.token')") == runtime.token
    # A reload of the tab keeps its session: the spent code is gone from the address.
    page.reload()
    page.wait_for_selector("body[data-ws=open]", state="attached", timeout=15_000)
    assert page.evaluate("window.__app.socketOpen()")
    context.close()


@needs_chromium
@pytest.mark.browser
def test_a_spent_code_leaves_the_page_without_its_key(browser, runtime):
    url = runtime.launch_url()
    assert exchange(runtime, code_of(url)).status_code == 200
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.get_by_text("This address is missing its key").wait_for(timeout=15_000)
    context.close()
