"""Start-up and memory: process start to the ready line (`--headless`) and to a loaded page
in the window (Xvfb + Qt); the headless backend's RSS idle and after a 20,000-token reply.

    python bench/bench_startup.py            # 10 headless starts, 3 window starts
    python bench/bench_startup.py --quick    # 5 headless starts, 1 window start

The window is the real desktop mode, `python -m backend` under `xvfb-run -a`, with Qt
WebEngine's DevTools server switched on (QTWEBENGINE_REMOTE_DEBUGGING) so that the page's
own clock (navigation, first paint, load) can be read over CDP without touching the app.
"""
# Over 300 lines on purpose: start-up and memory are measured side by side in one run.

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from _common import (
    REPO,
    HeadlessApp,
    isolated_env,
    loaded_libraries,
    median,
    parser,
    print_machine,
    proc_status,
    save_json,
    spread,
    table,
    verdict,
)
from _ws import RawWebSocket

from tests.fake_ollama import FakeOllama

GUI_MODULES = ("webview", "PyQt6", "PySide6", "pystray", "PIL", "gi", "Xlib")
# Loaded by the first request to Ollama (the monitor's first check), not before the ready line.
AFTER_READY = ("requests", "urllib3", "backend.core.providers.http", "idna", "charset_normalizer")
PAGE_STATE = """JSON.stringify({
  origin: performance.timeOrigin,
  nav: performance.getEntriesByType("navigation").map((e) => e.toJSON())[0] || null,
  fcp: (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime || null,
  ready: document.body ? document.body.dataset.ready === "true" : false,
  now: performance.now(),
})"""


# -- headless ---------------------------------------------------------------------------


def headless_starts(fake_url: str, runs: int) -> dict[str, list[float]]:
    """Ready times in a new data dir (first start: schema created) and an existing one."""
    first, later = [], []
    for _ in range(runs):
        data = Path(tempfile.mkdtemp(prefix="bench-start-"))
        for bucket in (first, later):
            app = HeadlessApp(fake_url, data).start()
            bucket.append(app.ready_s)
            app.stop()
        shutil.rmtree(data, ignore_errors=True)
    floor = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        floor.append(time.perf_counter() - started)
    return {"first": first, "later": later, "python": floor}


def import_profile(fake_url: str) -> dict[str, Any]:
    """`-X importtime` of one headless start: the costliest imports, and any GUI toolkit."""
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as data:
        app = HeadlessApp(fake_url, Path(data), python_flags=["-X", "importtime"])
        app.start()
        libs = loaded_libraries(app.pid)
        app.stop()
    rows = []
    for line in app.stderr().splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if found:
            rows.append((int(found[2]) / 1000, len(found[3]), found[4]))
    top = sorted((r for r in rows if r[1] <= 3), reverse=True)[:12]
    gui = sorted({name for _ms, _depth, name in rows if name.split(".")[0] in GUI_MODULES})
    qt_libs = sorted(name for name in libs if "Qt" in name or "gtk" in name)
    return {"top": top, "gui_modules": gui, "qt_libraries": qt_libs, "modules": len(rows)}


def after(module: str) -> bool:
    return module.startswith(AFTER_READY)


def reply_once(app: HeadlessApp) -> None:
    ws = RawWebSocket(app.ws_url)
    ws.send(
        {
            "type": "chat.send",
            "request_id": "rss",
            "conversation_id": None,
            "content": "long",
            "model": "llama3.2",
        }
    )
    while (frame := ws.recv())["type"] not in ("complete", "error", "cancelled"):
        pass
    ws.close()
    if frame["type"] != "complete":
        raise RuntimeError(f"the reply ended with {frame}")


def memory(fake: FakeOllama, replies: int) -> dict[str, Any]:
    """VmRSS idle, after one 20,000-token reply, and after `replies` more."""
    fake.token_count = 20000
    with (
        tempfile.TemporaryDirectory(prefix="bench-rss-") as data,
        HeadlessApp(fake.url, Path(data)) as app,
    ):
        time.sleep(2.0)  # the monitor's first checks, the first requests served
        idle = proc_status(app.pid)
        requests.get(app.url + "api/conversations", headers=app.headers(), timeout=10)
        reply_once(app)
        time.sleep(1.0)
        after_one = proc_status(app.pid)
        for _ in range(replies):
            reply_once(app)
        time.sleep(1.0)
        after_many = proc_status(app.pid)
    return {"idle": idle, "after_one": after_one, "after_many": after_many, "replies": replies}


# -- the window -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_state(devtools: int, deadline: float) -> dict[str, Any] | None:
    """The app page's timings over CDP, once the page exists and says it is ready."""
    ws = None
    while time.monotonic() < deadline:
        try:
            if ws is None:
                pages = requests.get(f"http://127.0.0.1:{devtools}/json", timeout=1).json()
                page = next((p for p in pages if p.get("type") == "page"), None)
                if page is None or not page["url"].startswith("http://127.0.0.1"):
                    raise ConnectionError("no page yet")
                ws = RawWebSocket(page["webSocketDebuggerUrl"], deflate=False)
            ws.send(
                {
                    "id": 1,
                    "method": "Runtime.evaluate",
                    "params": {"expression": PAGE_STATE, "returnByValue": True},
                }
            )
            state = json.loads(ws.recv()["result"]["result"]["value"])
            if state["ready"]:
                state["seen_at"] = time.time()
                ws.close()
                return state
        except (OSError, ValueError, KeyError, requests.RequestException):
            ws = None
        time.sleep(0.01)
    return None


def window_start(fake_url: str) -> dict[str, Any]:
    """One desktop-mode start under Xvfb: epoch times of each step, from the exec."""
    devtools = free_port()
    home = Path(tempfile.mkdtemp(prefix="bench-window-"))
    env = isolated_env(
        home,
        {
            "PYWEBVIEW_GUI": "qt",
            "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
            "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{devtools}",
        },
    )
    app_cmd = f"exec {sys.executable} -m backend --ollama-url {fake_url} --data-dir {home}/data"
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "sh", "-c", f"date +%s.%N; {app_cmd}"]
    launched = time.time()
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        exec_at = float(proc.stdout.readline())
        ready = json.loads(proc.stdout.readline())
        ready_at = time.time()
        state = page_state(devtools, time.monotonic() + 60)
        rss = window_memory(ready["pid"])
        os.kill(ready["pid"], signal.SIGTERM)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session: xvfb-run, Xvfb and the app
            proc.wait()
    if state is None:
        raise RuntimeError("the window's page never became ready")
    origin = state["origin"] / 1000
    nav = state["nav"] or {}
    return {
        "xvfb_s": exec_at - launched,
        "ready_line_s": ready_at - exec_at,
        "navigation_s": origin - exec_at,
        "first_paint_s": origin + state["fcp"] / 1000 - exec_at if state["fcp"] else None,
        "load_event_s": origin + nav.get("loadEventEnd", 0) / 1000 - exec_at,
        "ui_ready_seen_s": state["seen_at"] - exec_at,
        "rss_kb": rss,
    }


def window_memory(pid: int) -> dict[str, int]:
    """RSS of the app process, and of it with its QtWebEngine helpers (children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    family, todo = [], [pid]
    while todo:
        current = todo.pop()
        family.append(current)
        todo += children.get(current, [])
    total = 0
    for member in family:
        try:
            total += proc_status(member).get("VmRSS", 0)
        except OSError:
            pass
    return {"app": proc_status(pid)["VmRSS"], "with_helpers": total, "processes": len(family)}


# -- report ---------------------------------------------------------------------------


def measure(args: Any) -> dict[str, Any]:
    runs, windows = (5, 1) if args.quick else (10, 3)
    fake = FakeOllama().start()
    results: dict[str, Any] = {"headless": headless_starts(fake.url, runs)}
    results["imports"] = import_profile(fake.url)
    results["memory"] = memory(fake, replies=2 if args.quick else 5)
    results["window"], results["window_error"] = [], None
    try:
        for _ in range(windows):
            results["window"].append(window_start(fake.url))
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        results["window_error"] = str(exc)
    fake.stop()
    return results


def report(results: dict[str, Any]) -> None:
    h = results["headless"]
    table(
        f"Process start to the ready line, `--headless` ({len(h['first'])} starts; s)",
        ["start", "median", "spread"],
        [
            ["new data dir (schema created)", median(h["first"]), spread(h["first"])],
            ["existing data dir", median(h["later"]), spread(h["later"])],
            ["for scale: `python -c pass`", median(h["python"]), spread(h["python"])],
        ],
    )
    imp = results["imports"]
    table(
        f"Costliest imports of one headless start ({imp['modules']} modules; `-X importtime`,"
        " cumulative ms)",
        ["module", "ms", "loaded"],
        [
            ["  " * (depth - 1) + name, ms, "after ready" if after(name) else "before ready"]
            for ms, depth, name in imp["top"]
        ],
    )
    mem = results["memory"]
    rows = [
        [label, mem[key]["VmRSS"] / 1024, mem[key]["VmHWM"] / 1024]
        for label, key in (
            ("idle", "idle"),
            ("after a 20,000-token reply", "after_one"),
            (f"after {mem['replies']} more", "after_many"),
        )
    ]
    table("Backend memory, `--headless` (/proc/PID/status, MB)", ["when", "VmRSS", "VmHWM"], rows)
    win = results["window"]
    if win:
        keys = [
            ("xvfb-run to the app's exec", "xvfb_s"),
            ("ready line", "ready_line_s"),
            ("page navigation starts", "navigation_s"),
            ("first paint", "first_paint_s"),
            ("page load event", "load_event_s"),
            ("UI ready (data loaded, socket open)", "ui_ready_seen_s"),
        ]
        rows = [
            [label, median(w[k] for w in win), spread([w[k] for w in win])] for label, k in keys
        ]
        rows.append(["app process RSS, MB", median(w["rss_kb"]["app"] / 1024 for w in win), ""])
        rows.append(
            [
                "… with its QtWebEngine helpers, MB",
                median(w["rss_kb"]["with_helpers"] / 1024 for w in win),
                "",
            ]
        )
        table(
            f"Desktop window under Xvfb, from the app's exec ({len(win)} starts; s)",
            ["step", "median", "spread"],
            rows,
        )
    ready = median(h["later"])
    rss = max(mem["after_one"]["VmRSS"], mem["idle"]["VmRSS"]) / 1024
    gui = imp["gui_modules"] + imp["qt_libraries"]
    table(
        "Targets",
        ["figure", "measured", "target", "verdict"],
        [
            ["ready line, existing data dir, s", ready, "≤ 0.5", verdict(ready, 0.5)],
            [
                "ready line, new data dir, s",
                median(h["first"]),
                "≤ 0.5",
                verdict(median(h["first"]), 0.5),
            ],
            ["backend RSS after a 20,000-token reply, MB", rss, "≤ 80", verdict(rss, 80)],
            [
                "GUI toolkits loaded by `--headless`",
                ", ".join(gui) or "none",
                "none",
                "MISSES" if gui else "meets",
            ],
            [
                "window: UI ready, s",
                median(w["ui_ready_seen_s"] for w in win)
                if win
                else f"not measured: {results['window_error']}",
                "",
                "",
            ],
        ],
    )


def main() -> None:
    args = parser(__doc__.split("\n\n")[0]).parse_args()
    print_machine()
    results = measure(args)
    report(results)
    save_json(args.json, results)


if __name__ == "__main__":
    main()
