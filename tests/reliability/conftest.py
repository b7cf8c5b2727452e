"""Fixtures of the reliability suite (helpers are in support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_process import HeadlessApp
from tests.fake_ollama import FakeOllama
from tests.reliability.support import ColdLoad, Mounts


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: waits in real time (a cold model load); CI runs it")


@pytest.fixture
def launch(fake_ollama, data_dir):
    """Start the app against the fake Ollama: `launch(*flags, data=dir, ollama=url, env=…)`."""
    started: list[HeadlessApp] = []

    def start(
        *extra: str,
        data: Path | None = None,
        ollama: str | None = None,
        env: dict[str, str] | None = None,
    ) -> HeadlessApp:
        where = data or data_dir
        args = ["--ollama-url", ollama or fake_ollama.url, "--data-dir", str(where), *extra]
        app = HeadlessApp(args, where, env)
        started.append(app)
        return app.start()

    yield start
    for app in started:
        app.stop()


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    """One app (and fake Ollama) for a whole module whose tests leave each other alone."""
    fake = FakeOllama().start()
    fake.token_count = 3
    data = tmp_path_factory.mktemp("shared") / "data"
    app = HeadlessApp(["--ollama-url", fake.url, "--data-dir", str(data)], data).start()
    yield app
    app.stop()
    fake.stop()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """(app, ws, fake) for a module whose tests set the fake's raw answer (`raw_chat`)."""
    fake = FakeOllama().start()
    data = tmp_path_factory.mktemp("hostile") / "data"
    app = HeadlessApp(["--ollama-url", fake.url, "--data-dir", str(data)], data).start()
    ws = app.ws()
    yield app, ws, fake
    ws.close()
    app.stop()
    fake.stop()


@pytest.fixture
def mounts():
    """Mounts for one test; ask for it before `launch`, so apps stop before it unmounts."""
    made = Mounts()
    yield made
    made.undo()


@pytest.fixture(scope="session")
def cold_load(tmp_path_factory):
    load = ColdLoad(tmp_path_factory.mktemp("cold-load") / "data")
    yield load
    load.close()


@pytest.fixture(scope="session", autouse=True)
def _start_cold_load_early(request):
    """The cold-load wait is real, so it runs beside the rest of the suite: started with
    the first test of this directory, checked by its test, which runs last."""
    if any("cold_load" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("cold_load")


def pytest_collection_modifyitems(session, config, items) -> None:
    waiting = [item for item in items if "cold_load" in getattr(item, "fixturenames", ())]
    items[:] = [item for item in items if item not in waiting] + waiting


# Runs before the app's own scripts: records anything that would mean a script of the
# model's ran, or was stopped only by the page's Content-Security-Policy.
WATCH_PAGE = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({directive: e.violatedDirective, source: e.sourceFile || "",
                            line: e.lineNumber, sample: e.sample || ""});
});
"""


@pytest.fixture(scope="module")
def chromium(browser):
    return browser


@pytest.fixture
def open_ui(chromium):
    """`open_ui(app)`: a fresh browser context on the app's page, its socket open."""
    contexts = []

    def open_page(app: HeadlessApp):
        context = chromium.new_context(viewport={"width": 1100, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(WATCH_PAGE)
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{app.url}?token={app.token}")
        page.wait_for_selector("body[data-ready='true'][data-ws='open']", timeout=15000)
        return page

    yield open_page
    for context in contexts:
        context.close()
