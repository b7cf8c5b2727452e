"""UI rendering in Chromium (Playwright): a 20,000-token Markdown reply with code blocks
streamed at 200 tok/s and at full speed, beside a naive renderer that re-renders the whole
reply every frame; then a 500-message conversation opened and scrolled.

    python bench/bench_ui.py            # 20,000 tokens (100 s at 200 tok/s), 500 messages
    python bench/bench_ui.py --quick    # 4,000 tokens, 200 messages

The reply comes from the fake Ollama through the real app (`--headless`) into the real
page; a script injected before the page loads records long tasks (PerformanceObserver),
animation frames, when each frame of the reply arrived, and when the final render painted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from _common import (
    REPO,
    HeadlessApp,
    fmt,
    parser,
    percentile,
    print_machine,
    save_json,
    table,
    verdict,
)
from _markdown import tokens as markdown_tokens
from playwright.sync_api import Page, sync_playwright

from backend.store import Store
from tests.fake_ollama import FakeOllama

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
INIT_JS = (Path(__file__).parent / "ui_probe.js").read_text()
NAIVE_JS = (Path(__file__).parent / "ui_naive.js").read_text()
LONG_CONVERSATION = "Benchmark: a long conversation"


def seed(data_dir: Path, messages: int) -> None:
    """A conversation of `messages` messages, replies in Markdown with code, before start."""
    with Store(data_dir / "cloudtolocalllm.db") as store:
        cid = store.create_conversation(title=LONG_CONVERSATION, model="llama3.2")["id"]
        reply = "".join(markdown_tokens(400, seed=3))  # ~2 KB: paragraphs, a list, code
        for i in range(messages // 2):
            store.add_message(cid, "user", f"Question {i}: how does the reader keep up?")
            store.add_message(cid, "assistant", reply, model="llama3.2")


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Long tasks while streaming and while finishing, frame intervals, final paint."""
    start, complete, painted = run["start"], run["complete"], run["finalPaint"]
    streaming = [d for t, d in run["longtasks"] if start <= t < complete]
    finishing = [d for t, d in run["longtasks"] if complete <= t <= painted]
    frames = [b - a for a, b in zip(run["frames"], run["frames"][1:], strict=False)]
    return {
        "long_streaming": len(streaming),
        "long_streaming_max": max(streaming, default=0.0),
        "blocking_ms": sum(d - 50 for d in streaming),
        "long_finishing": len(finishing),
        "long_finishing_max": max(finishing, default=0.0),
        "last_chunk_to_paint_ms": painted - run["lastChunk"],
        "complete_to_paint_ms": painted - complete,
        "frame_p50": percentile(frames, 50),
        "frame_p99": percentile(frames, 99),
        "frame_max": max(frames, default=float("nan")),
        "chunks": run["chunks"],
        "seconds": (painted - start) / 1000,
    }


class Profiler:
    """Chromium's sampling CPU profiler over CDP: where the main thread's time went."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Profiler.enable")
        self.cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        self.cdp.send("Profiler.start")

    def top(self, n: int = 15) -> list[tuple[float, str]]:
        """The `n` functions with the most self time (ms), as `name (file:line)`."""
        profile = self.cdp.send("Profiler.stop")["profile"]
        nodes = {node["id"]: node for node in profile["nodes"]}
        self_ms: dict[str, float] = {}
        for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
            frame = nodes[node_id]["callFrame"]
            where = f"{frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1}"
            key = f"{frame['functionName'] or '(anonymous)'} ({where})"
            self_ms[key] = self_ms.get(key, 0.0) + delta / 1000
        return sorted(((ms, key) for key, ms in self_ms.items()), reverse=True)[:n]


def stream_in_app(page: Page, fake: FakeOllama, toks: list[str], rate: float | None) -> dict:
    fake.tokens, fake.token_delay = toks, (1 / rate if rate else 0.0)
    page.get_by_test_id("new-chat").click()
    page.evaluate("__bench.reset()")
    page.get_by_test_id("composer-input").fill("Write the long guide, with code.")
    page.get_by_test_id("composer-input").press("Enter")
    timeout = (len(toks) / rate if rate else 10) * 1000 + 120_000
    page.wait_for_function("() => window.__bench.finalPaint > 0", timeout=timeout, polling=500)
    run = page.evaluate("__bench.take()")
    shown = page.locator("article.message.assistant").last.inner_text()
    run["complete_text"] = len(shown) > len("".join(toks)) * 0.5  # rendered, not raw
    return run


def stream_naive(page: Page, toks: list[str], rate: float | None) -> dict:
    page.get_by_test_id("new-chat").click()
    page.evaluate("__bench.reset()")
    chunk = 1 if rate else 100  # at full speed the app's chunks carry ~100 tokens too
    return page.evaluate(
        NAIVE_JS, {"tokens": toks, "delayMs": 1000 / rate if rate else 0, "chunk": chunk}
    )


def open_and_scroll(page: Page, messages: int) -> dict[str, Any]:
    page.get_by_test_id("new-chat").click()
    page.wait_for_timeout(300)
    page.evaluate("__bench.reset()")
    page.evaluate(f"__bench.expectMessages({messages})")
    page.get_by_test_id("conversation-title").filter(has_text=LONG_CONVERSATION).click()
    page.wait_for_function("() => window.__bench.openedPaint > 0", timeout=60_000)
    opened = page.evaluate("__bench.opened()")
    return {"open": opened, "scroll": page.evaluate("__bench.scrollToTop(240)")}


def measure(args: Any) -> dict[str, Any]:
    count, messages = (4000, 200) if args.quick else (20000, 500)
    toks = markdown_tokens(count)
    fake = FakeOllama().start()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    seed(data_dir, messages)
    results: dict[str, Any] = {
        "tokens": count,
        "messages": messages,
        "code_blocks": "".join(toks).count("```") // 2,
        "runs": {},
    }
    with HeadlessApp(fake.url, data_dir) as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(INIT_JS)
        page.goto(f"{app.url}?token={app.token}")
        page.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=30_000)
        plan = [("app", 200.0), ("app", None), ("naive", 200.0), ("naive", None)]
        for renderer, rate in plan:
            label = f"{renderer} {'200 tok/s' if rate else 'full speed'}"
            print(f"  streaming: {label} …", flush=True)
            profiler = Profiler(page) if args.profile else None
            if renderer == "app":
                run = stream_in_app(page, fake, toks, rate)
            else:
                run = stream_naive(page, toks, rate)
            results["runs"][label] = {**summary(run), "raw_longtasks": run["longtasks"]}
            if profiler is not None:
                results["runs"][label]["profile"] = profiler.top()
        print("  opening and scrolling the long conversation …", flush=True)
        results["scroll"] = open_and_scroll(page, messages)
        browser.close()
    fake.stop()
    return results


def report(results: dict[str, Any]) -> None:
    rows = []
    for label, r in results["runs"].items():
        rows.append(
            [
                label,
                r["long_streaming"],
                r["long_streaming_max"],
                r["blocking_ms"],
                r["long_finishing"],
                r["long_finishing_max"],
                r["last_chunk_to_paint_ms"],
                r["frame_p50"],
                r["frame_p99"],
                r["chunks"],
                r["seconds"],
            ]
        )
    table(
        f"Streaming a {results['tokens']:,}-token Markdown reply "
        f"({results['code_blocks']} code blocks) into the page",
        [
            "renderer, rate",
            "long tasks (> 50 ms) while streaming",
            "longest ms",
            "blocking ms",
            "long tasks while finishing",
            "longest ms",
            "last chunk → final paint ms",
            "frame p50 ms",
            "frame p99 ms",
            "chunks",
            "s",
        ],
        rows,
    )
    s = results["scroll"]
    opened, scroll = s["open"], s["scroll"]
    table(
        f"A {results['messages']}-message conversation (replies in Markdown with code)",
        [
            "step",
            "ms",
            "long tasks",
            "longest ms",
            "frames",
            "frame p50 ms",
            "frame p99 ms",
            "frames > 33 ms",
        ],
        [
            [
                "click → painted",
                opened["ms"],
                len(opened["longtasks"]),
                max(opened["longtasks"], default=0),
                "",
                "",
                "",
                "",
            ],
            [
                "scroll bottom → top, 240 px a frame",
                scroll["ms"],
                len(scroll["longtasks"]),
                max(scroll["longtasks"], default=0),
                len(scroll["frames"]),
                percentile(scroll["frames"], 50),
                percentile(scroll["frames"], 99),
                sum(1 for f in scroll["frames"] if f > 33),
            ],
        ],
    )
    slow, fast = results["runs"]["app 200 tok/s"], results["runs"]["app full speed"]
    paint = max(slow["last_chunk_to_paint_ms"], fast["last_chunk_to_paint_ms"])
    frame_p99 = percentile(scroll["frames"], 99)
    smooth = not scroll["longtasks"] and frame_p99 <= 33
    table(
        "Targets",
        ["figure", "measured", "target", "verdict"],
        [
            [
                "long tasks while streaming at 200 tok/s",
                slow["long_streaming"],
                "0",
                verdict(slow["long_streaming"], 0),
            ],
            [
                "last chunk → final paint, worse of the two rates, ms",
                paint,
                "≤ 100",
                verdict(paint, 100),
            ],
            ["500-message conversation: click → painted, ms", opened["ms"], "", ""],
            [
                "… scrolls smoothly (no long task, frame p99 ≤ 33 ms)",
                f"{len(scroll['longtasks'])} long tasks, p99 {fmt(frame_p99)} ms",
                "smooth",
                "meets" if smooth else "MISSES",
            ],
        ],
    )


def profile_tables(results: dict[str, Any]) -> None:
    for label, r in results["runs"].items():
        if "profile" in r:
            table(
                f"Where the main thread's time went: {label} (CPU profile, self time)",
                ["function (file:line)", "ms"],
                [[name, ms] for ms, name in r["profile"]],
            )


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--profile", action="store_true", help="also print CPU profiles of each run")
    args = p.parse_args()
    print_machine()
    print(f"frontend: {REPO / 'frontend'}\n")
    results = measure(args)
    report(results)
    profile_tables(results)
    save_json(args.json, results)


if __name__ == "__main__":
    main()
