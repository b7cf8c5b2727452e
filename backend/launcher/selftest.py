"""`cloudtolocalllm --self-test`: does this build work? One line of answer, exit 0 or 1.

It starts the real backend on a throwaway data dir and goes through it the way the window
does: the database through the REST API, every frontend file the page loads, a WebSocket
round trip, and the window toolkit's import. Ollama is reported, never required: a machine
that has not installed it yet still has a working app.
"""

from __future__ import annotations

import importlib
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

import requests

from backend.core.settings import Settings, prepare_data_dir
from backend.core.store.migrations import LATEST_VERSION
from backend.launcher.runtime import Runtime

TIMEOUT_S = 10.0
OLLAMA_WAIT_S = 3.0  # the monitor's first check, loopback or not
MAX_FRONTEND_FILES = 500
# References to other files in the page, its modules and its stylesheets.
# A module names another by a path that starts with ./ or ../ (browsers resolve nothing
# else without an import map), which keeps strings inside minified code out of it.
_MODULE_REF = re.compile(
    r"""(?:^|[;\s])(?:import|export)\b[^"';]*?["'](\.{1,2}/[^"']+)["']"""
    r"""|\bimport\(\s*["'](\.{1,2}/[^"']+)["']\s*\)""",
    re.MULTILINE,
)
REFERENCES = {
    ".html": re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']"""),
    ".js": _MODULE_REF,
    ".mjs": _MODULE_REF,
    ".css": re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)|@import\s+["']([^"']+)["']"""),
}
# A font's `src:` lists formats, best first: the browser fetches the first it supports, so
# a bundle ships that one (KaTeX's woff2) and the fallbacks after it need not be there.
_FONT_FALLBACKS = re.compile(r"""(\bsrc\s*:\s*url\([^)]*\)[^,;}]*),[^;}]*""")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    informative: bool = False  # reported, never failed

    def __str__(self) -> str:
        if self.informative:
            return f"{self.name}: {self.detail}"
        return f"{self.name} {'ok' if self.ok else 'FAILED'} ({self.detail})"


def run_self_test(ollama_url: str, out: TextIO | None = None) -> int:
    """Run every check on a temp data dir, print the one-line report, return the exit code."""
    with tempfile.TemporaryDirectory(prefix="cloudtolocalllm-selftest-") as tmp:
        checks = self_test(Path(tmp), ollama_url)
    passed = all(check.ok for check in checks)
    verdict = "self-test passed" if passed else "self-test FAILED"
    print(f"{verdict}: " + "; ".join(str(check) for check in checks), file=out or sys.stdout)
    return 0 if passed else 1


def self_test(data_dir: Path, ollama_url: str) -> list[Check]:
    settings = Settings(
        mode="headless", port=0, ollama_url=ollama_url, data_dir=prepare_data_dir(data_dir)
    )
    try:
        runtime = Runtime(settings).start()
    # Whatever stops the backend from starting is the finding, reported rather than raised.
    except Exception as exc:
        return [Check("backend", False, _describe(exc))]
    try:
        checks = [
            _run("database", lambda: check_database(runtime)),
            _run("frontend", lambda: check_frontend(runtime.url)),
            _run("websocket", lambda: check_websocket(runtime)),
            _run("gui", check_gui),
        ]
        return [*checks, *display_state(checks[-1]), ollama_state(runtime)]
    finally:
        runtime.stop()


def check_database(runtime: Runtime) -> str:
    """A conversation written and read back through the API, then the file's own state."""
    api, auth = runtime.url + "api/conversations", _auth(runtime)
    created = requests.post(api, json={"title": "self-test"}, headers=auth, timeout=TIMEOUT_S)
    _expect(created, 201)
    cid = created.json()["id"]
    read = requests.get(f"{api}/{cid}", headers=auth, timeout=TIMEOUT_S)
    _expect(read, 200)
    if read.json()["title"] != "self-test":
        raise SelfTestFailure("the conversation read back differs from the one written")
    _expect(requests.delete(f"{api}/{cid}", headers=auth, timeout=TIMEOUT_S), 204)
    with sqlite3.connect(runtime.settings.db_path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if (version, journal, integrity) != (LATEST_VERSION, "wal", "ok"):
        raise SelfTestFailure(f"schema {version}, journal {journal}, integrity {integrity}")
    return f"schema v{version}, WAL"


def check_frontend(base_url: str) -> str:
    """The page and every file it loads, followed through its references, are served."""
    seen: set[str] = set()
    queue = ["index.html"]
    missing: list[str] = []
    while queue and len(seen) < MAX_FRONTEND_FILES:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = requests.get(base_url + path, timeout=TIMEOUT_S)
        if response.status_code != 200 or not response.content:
            missing.append(f"{path} ({response.status_code})")
            continue
        queue.extend(_references(path, response.text))
    if missing:
        raise SelfTestFailure("missing " + ", ".join(sorted(missing)))
    return f"{len(seen)} files"


def check_websocket(runtime: Runtime) -> str:
    """Connect as the page does, get the status frame, and time a ping's pong."""
    import simple_websocket

    url = runtime.url.replace("http://", "ws://", 1) + f"ws?token={runtime.token}"
    ws = simple_websocket.Client.connect(url)
    try:
        first = _receive(ws)
        if first.get("type") != "status":
            raise SelfTestFailure(f"first frame was {first.get('type')!r}, not status")
        started = time.perf_counter()
        ws.send(json.dumps({"type": "ping"}))
        while _receive(ws).get("type") != "pong":
            pass
        return f"ping {(time.perf_counter() - started) * 1000:.1f} ms"
    finally:
        try:
            ws.close()
        except simple_websocket.ConnectionClosed:
            pass


def check_gui() -> str:
    """The window toolkit and the system libraries it needs load (a bundle packed them)."""
    importlib.import_module("webview")
    if not sys.platform.startswith("linux"):
        return "pywebview"
    from backend.desktop.gui_probe import library_problem

    problem = library_problem()  # what the import alone misses: Qt's platform plugin
    if problem is not None:
        raise SelfTestFailure(problem.message)
    importlib.import_module("webview.platforms.qt")
    return "pywebview + Qt WebEngine"


def display_state(gui: Check) -> list[Check]:
    """Whether a window could open now; the app opens in the browser when not, so this
    is reported, never failed (a server or an SSH session has no display)."""
    if not gui.ok or not sys.platform.startswith("linux"):
        return []
    from backend.desktop.gui_probe import display_problem

    problem = display_problem()
    detail = f"{problem.message} (the app opens in the browser)" if problem else "available"
    return [Check("display", True, detail, informative=True)]


def ollama_state(runtime: Runtime, wait_s: float = OLLAMA_WAIT_S) -> Check:
    """Where Ollama stands, once the monitor has had a moment to look; never a failure."""
    monitor = runtime.services.monitor
    deadline = time.monotonic() + wait_s
    status = monitor.status()
    while status["state"] == "connecting" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = monitor.status()
    if status["state"] == "connected":
        return Check("ollama", True, f"connected at {status['endpoint']}", informative=True)
    detail = f"not running at {status['endpoint']} (not needed to pass)"
    return Check("ollama", True, detail, informative=True)


class SelfTestFailure(Exception):
    """A check's finding, in words for the report."""


def _run(name: str, check: Callable[[], str]) -> Check:
    try:
        return Check(name, True, check())
    # A self-test reports every failure as a finding instead of stopping at the first.
    except Exception as exc:
        return Check(name, False, _describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SelfTestFailure):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise SelfTestFailure(
            f"{response.request.method} {response.request.path_url.split('?')[0]} "
            f"answered {response.status_code}, not {status}"
        )


def _auth(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.token}"}


def _receive(ws) -> dict:
    text = ws.receive(timeout=TIMEOUT_S)
    if text is None:
        raise SelfTestFailure(f"no frame within {TIMEOUT_S:g} s")
    return json.loads(text)


def _references(path: str, text: str) -> list[str]:
    """The same-origin files that `path` (a page, module or stylesheet) refers to."""
    pattern = REFERENCES.get(PurePosixPath(path).suffix)
    if pattern is None:
        return []
    if path.endswith(".css"):
        text = _FONT_FALLBACKS.sub(r"\1", text)
    found = []
    for match in pattern.finditer(text):
        ref = next(group for group in match.groups() if group)
        if re.match(r"^(?:[a-z][a-z0-9+.-]*:|//|#|/)", ref, re.IGNORECASE):
            continue  # data:, http:, fragments and absolute paths are not bundle files
        joined = PurePosixPath(path).parent / ref.split("?")[0].split("#")[0]
        found.append(_normalise(joined))
    return found


def _normalise(path: PurePosixPath) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)
