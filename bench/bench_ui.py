"""UI rendering in Chromium (Playwright): a 20,000-token Markdown reply with code blocks
streamed at 200 tok/s and at full speed, beside a naive renderer that re-renders the whole
reply every frame; then a 500-message conversation opened and scrolled.

    python bench/bench_ui.py            # 20,000 tokens (100 s at 200 tok/s), 500 messages
    python bench/bench_ui.py --quick    # 4,000 tokens, 200 messages
    python bench/bench_ui.py --profile  # also where the app's main thread spent its time
    python bench/bench_ui.py --trace    # … by Chromium's own event names, early and late
    python bench/bench_ui.py --tokens 10000 --app-only   # a reply of this many tokens

The reply comes from the fake Ollama through the real app (`--headless`) into the real
page; a script injected before the page loads records long tasks (PerformanceObserver),
animation frames, when each frame of the reply arrived, and when the final render painted.
The naive peer runs in a browser of its own, fed the same tokens at the pace the app got
them in the same run (its measured rate, in as many chunks), and is given the stream's
time + 2 min to finish: its main thread can be busy for minutes at a time.
"""
# Over 300 lines on purpose: the app and the naive peer are measured side by side in one run.

from __future__ import annotations

import shutil
import tempfile
import time
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
from _trace import CATEGORIES, top_rows, windows
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from backend.core.store import Store
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
from tests.fake_ollama import FakeOllama

INIT_JS = (Path(__file__).parent / "ui_probe.js").read_text()
NAIVE_JS = (Path(__file__).parent / "ui_naive.js").read_text()
LONG_CONVERSATION = "Benchmark: a long conversation"
GRACE_MS = 120_000  # beyond the stream's own duration, before a run counts as never ending
EDGE_TOKENS = 2000  # busy per token over the first and last this many (a quarter if fewer)
POLL_S = 0.25  # how often the main thread's busy time is sampled while a reply streams


def seed(data_dir: Path, messages: int) -> None:
    """A conversation of `messages` messages, replies in Markdown with code, before start."""
    with Store(data_dir / "cloudtolocalllm.db") as store:
        cid = store.create_conversation(title=LONG_CONVERSATION, model="llama3.2")["id"]
        reply = "".join(markdown_tokens(400, seed=3))  # ~2 KB: paragraphs, a list, code
        for i in range(messages // 2):
            store.add_message(cid, "user", f"Question {i}: how does the reader keep up?")
            store.add_message(cid, "assistant", reply, model="llama3.2")


def summary(run: dict[str, Any], toks: list[str]) -> dict[str, Any]:
    """Long tasks while streaming and while finishing, frame intervals, final paint, and the
    main thread's busy time per token early and late in the reply."""
    start, complete, painted = run["start"], run["complete"], run["finalPaint"]
    window = min(EDGE_TOKENS, len(toks) // 4)
    first, last = cpu_per_token(toks, run["samples"], window)
    streaming = [d for t, d in run["longtasks"] if start <= t < complete]
    finishing = [d for t, d in run["longtasks"] if complete <= t <= painted]
    frames = [b - a for a, b in zip(run["frames"], run["frames"][1:], strict=False)]
    return {
        "busy_ms": run["busy_ms"],
        "busy_share": run["busy_ms"] / (painted - start),
        "cpu_ms": run["cpu_ms"],
        "cpu_share": run["cpu_ms"] / (painted - start),
        "edge_tokens": window,
        "cpu_per_token_first": first,
        "cpu_per_token_last": last,
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
        "delivered_s": (run["lastChunk"] - start) / 1000,  # first to last chunk handled
        "raw_longtasks": run["longtasks"],
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


class MainThread:
    """The renderer's main thread as Chromium counts it (CDP `Performance` metrics)."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")

    def busy_ms(self) -> float:
        """Time spent in tasks since the page started: script, style, layout, paint, GC."""
        return self.metric("TaskDuration")

    def cpu_ms(self) -> float:
        """CPU time of the main thread: on a loaded machine a task's wall time also counts
        the time it waited for a core; this does not."""
        return self.metric("ThreadTime")

    def metric(self, name: str) -> float:
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == name) * 1000


def open_app(browser: Any, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(INIT_JS)
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=30_000)
    page.wait_for_timeout(1000)  # the idle work after load (highlight.js grammars) is done
    return page


def stream_in_app(page: Page, fake: FakeOllama, toks: list[str], rate: float | None) -> dict:
    fake.tokens, fake.token_delay = toks, (1 / rate if rate else 0.0)
    page.get_by_test_id("new-chat").click()
    page.evaluate("__bench.reset()")
    thread = MainThread(page)
    busy, cpu = thread.busy_ms(), thread.cpu_ms()
    page.get_by_test_id("composer-input").fill("Write the long guide, with code.")
    page.get_by_test_id("composer-input").press("Enter")
    timeout = (len(toks) / rate if rate else 10) * 1000 + GRACE_MS
    samples = sample_cpu(page, thread, cpu, timeout / 1000)
    run = page.evaluate("__bench.take()")
    run["busy_ms"], run["cpu_ms"] = thread.busy_ms() - busy, thread.cpu_ms() - cpu
    run["samples"] = samples
    thread.cdp.detach()
    return run


def sample_cpu(page: Page, thread: MainThread, cpu0: float, timeout_s: float) -> list:
    """[characters of the reply received, main-thread CPU ms] every POLL_S until the final
    paint (each sample costs the page the same small task, early or late in the reply)."""
    samples: list[list[float]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        chars, painted = page.evaluate("[__bench.chars, __bench.finalPaint > 0]")
        samples.append([chars, thread.cpu_ms() - cpu0])
        if painted:
            return samples
        time.sleep(POLL_S)
    raise PlaywrightTimeout(f"no final paint within {timeout_s:.0f} s")


def cpu_at(samples: list, chars: int) -> float:
    """CPU ms when the reply had reached `chars` characters (linear between samples)."""
    previous = [0.0, 0.0]
    for sample in samples:
        if sample[0] >= chars:
            span = sample[0] - previous[0]
            part = (chars - previous[0]) / span if span else 1.0
            return previous[1] + part * (sample[1] - previous[1])
        previous = sample
    return previous[1]


def cpu_per_token(toks: list[str], samples: list, window: int) -> tuple[float, float]:
    """Main-thread CPU ms per token over the first and over the last `window` tokens."""
    ends = [sum(len(t) for t in toks[:n]) for n in (window, len(toks) - window, len(toks))]
    first = cpu_at(samples, ends[0]) / window
    last = (cpu_at(samples, ends[2]) - cpu_at(samples, ends[1])) / window
    return first, last


def naive_pace(toks: list[str], app_run: dict[str, Any]) -> dict:
    """The app's pace in that run: `chunk` tokens (as many chunks as it got) every `delayMs`
    over the span it got them in (0: all at once, as fast as the page takes them)."""
    chunk = max(1, round(len(toks) / max(app_run["chunks"], 1)))
    return {"delayMs": app_run["delivered_s"] * 1000 * chunk / len(toks), "chunk": chunk}


def stream_naive(pw: Any, url: str, toks: list[str], pace: dict) -> dict | None:
    """The naive peer in a browser of its own; None if it did not finish in time."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = open_app(browser, url)
        page.evaluate("__bench.reset()")
        thread = MainThread(page)
        busy, cpu = thread.busy_ms(), thread.cpu_ms()
        page.evaluate(NAIVE_JS, {"tokens": toks, **pace})
        stream_ms = len(toks) / pace["chunk"] * pace["delayMs"]
        try:
            samples = sample_cpu(page, thread, cpu, (stream_ms + GRACE_MS) / 1000)
            page.wait_for_function("() => window.__naiveRun !== null", timeout=GRACE_MS)
        except PlaywrightTimeout:
            return None
        run = page.evaluate("window.__naiveRun")
        run["busy_ms"], run["cpu_ms"] = thread.busy_ms() - busy, thread.cpu_ms() - cpu
        run["samples"] = samples
        return run
    finally:
        browser.close()


def open_and_scroll(page: Page, messages: int) -> dict[str, Any]:
    page.get_by_test_id("new-chat").click()
    page.wait_for_timeout(300)
    page.evaluate("__bench.reset()")
    page.evaluate(f"__bench.expectMessages({messages})")
    page.get_by_test_id("conversation-title").filter(has_text=LONG_CONVERSATION).click()
    page.wait_for_function("() => window.__bench.openedPaint > 0", timeout=60_000)
    opened = page.evaluate("__bench.opened()")
    return {"open": opened, "scroll": page.evaluate("__bench.scrollToTop(240)")}


def measure_app(page: Page, fake: FakeOllama, toks: list[str], args: Any) -> dict[str, Any]:
    """Both rates, then the long conversation, in one page of the real app."""
    runs: dict[str, Any] = {}
    for rate in (200.0,) if args.slow_only else (200.0, None):
        label = f"app {'200 tok/s' if rate else 'full speed'}"
        print(f"  streaming: {label} …", flush=True)
        profiler = Profiler(page) if args.profile else None
        traced = args.trace and rate is not None
        if traced:
            page.context.browser.start_tracing(page=page, categories=CATEGORIES)
        runs[label] = summary(stream_in_app(page, fake, toks, rate), toks)
        if traced:
            share = runs[label]["edge_tokens"] / len(toks)
            runs[label]["trace"] = windows(page.context.browser.stop_tracing(), share)
        if profiler is not None:
            runs[label]["profile"] = profiler.top()
    if args.slow_only:
        return {"runs": runs}
    print("  opening and scrolling the long conversation …", flush=True)
    profiler = Profiler(page) if args.profile else None
    scroll = open_and_scroll(page, args.messages)
    if profiler is not None:
        scroll["profile"] = profiler.top()
    return {"runs": runs, "scroll": scroll}


def measure(args: Any) -> dict[str, Any]:
    count, args.messages = (4000, 200) if args.quick else (20000, 500)
    count = args.tokens or count
    toks = markdown_tokens(count)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    seed(data_dir, args.messages)
    results: dict[str, Any] = {
        "tokens": count,
        "messages": args.messages,
        "code_blocks": "".join(toks).count("```") // 2,
    }
    fake = FakeOllama().start()
    try:
        with HeadlessApp(fake.url, data_dir) as app, sync_playwright() as pw:
            url = f"{app.url}?token={app.token}"
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            results.update(measure_app(open_app(browser, url), fake, toks, args))
            browser.close()
            for rate in ("200 tok/s", "full speed") if not args.app_only else ():
                if rate == "full speed" and args.slow_only:
                    continue
                print(f"  streaming: naive {rate} …", flush=True)
                pace = naive_pace(toks, results["runs"][f"app {rate}"])
                run = stream_naive(pw, url, toks, pace)
                results["runs"][f"naive {rate}"] = summary(run, toks) if run else None
    finally:
        fake.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return results


def streaming_table(results: dict[str, Any]) -> None:
    rows = []
    for label, r in results["runs"].items():
        if r is None:
            rows.append([label, "did not finish within the stream's time + 2 min"] + [""] * 16)
            continue
        delivered = results["tokens"] / r["delivered_s"] if r["delivered_s"] else float("nan")
        rows.append(
            [label, r["busy_ms"], 100 * r["busy_share"], r["cpu_ms"], 100 * r["cpu_share"]]
            + [r["cpu_per_token_first"], r["cpu_per_token_last"], growth(r)]
            + [r["long_streaming"], r["long_streaming_max"], r["blocking_ms"]]
            + [r["long_finishing"], r["long_finishing_max"], r["last_chunk_to_paint_ms"]]
            + [r["frame_p50"], r["frame_p99"], r["chunks"], delivered]
        )
    table(
        f"Streaming a {results['tokens']:,}-token Markdown reply "
        f"({results['code_blocks']} code blocks) into the page",
        ["renderer, rate", "main-thread busy ms", "busy %", "CPU ms", "CPU %"]
        + ["CPU ms/token, first", "… last", "last ÷ first"]
        + ["long tasks (> 50 ms) while streaming"]
        + ["longest ms", "blocking ms", "long tasks while finishing", "longest ms"]
        + ["last chunk → final paint ms", "frame p50 ms", "frame p99 ms", "chunks"]
        + ["tokens/s delivered"],
        rows,
    )


def growth(run: dict[str, Any]) -> float:
    """CPU per token at the end of the reply over CPU per token at its start."""
    first = run["cpu_per_token_first"]
    return run["cpu_per_token_last"] / first if first else float("nan")


def ratio_table(runs: dict[str, Any]) -> None:
    """The naive peer beside the app, figure by figure, from the same run."""
    figures = [
        ("main-thread busy ms", "busy_ms"),
        ("main-thread CPU ms", "cpu_ms"),
        ("CPU ms per token, last tokens", "cpu_per_token_last"),
        ("blocking ms (long tasks beyond 50 ms)", "blocking_ms"),
        ("longest task while streaming, ms", "long_streaming_max"),
        ("last chunk → final paint, ms", "last_chunk_to_paint_ms"),
    ]
    rows = []
    for rate in ("200 tok/s", "full speed"):
        app, naive = runs[f"app {rate}"], runs.get(f"naive {rate}")
        for name, key in figures:
            theirs = naive[key] if naive else "did not finish"
            ratio = naive[key] / app[key] if naive and app[key] else float("nan")
            rows.append([f"{name}, {rate}", app[key], theirs, ratio])
    table(
        "Naive ÷ app (same tokens at the same pace)",
        ["figure", "app", "naive", "naive ÷ app"],
        rows,
    )


def conversation_table(results: dict[str, Any]) -> None:
    opened, scroll = results["scroll"]["open"], results["scroll"]["scroll"]
    frames = scroll["frames"]
    table(
        f"A {results['messages']}-message conversation (replies in Markdown with code)",
        ["step", "ms", "long tasks", "longest ms", "frames", "frame p50 ms", "frame p99 ms"]
        + ["frames > 33 ms"],
        [
            ["click → painted", opened["ms"], len(opened["longtasks"])]
            + [max(opened["longtasks"], default=0), "", "", "", ""],
            ["scroll bottom → top, 240 px a frame", scroll["ms"], len(scroll["longtasks"])]
            + [max(scroll["longtasks"], default=0), len(frames), percentile(frames, 50)]
            + [percentile(frames, 99), sum(1 for f in frames if f > 33)],
        ],
    )


def targets_table(results: dict[str, Any]) -> None:
    slow, fast = results["runs"]["app 200 tok/s"], results["runs"]["app full speed"]
    opened, scroll = results["scroll"]["open"], results["scroll"]["scroll"]
    frame_p99 = percentile(scroll["frames"], 99)
    smooth = not scroll["longtasks"] and frame_p99 <= 33
    rows = [["long tasks while streaming at 200 tok/s", slow["long_streaming"], "0"]]
    rows[0].append(verdict(slow["long_streaming"], 0))
    share = 100 * slow["busy_share"]
    rows.append(["main thread busy at 200 tok/s, %", share, "≤ 10", verdict(share, 10)])
    share = 100 * slow["cpu_share"]
    rows.append(["… its CPU time (the same, less waits for a core), %", share, "≤ 10"])
    rows[-1].append(verdict(share, 10))
    edge = f"{slow['edge_tokens']:,}"
    rows.append([f"CPU per token, last {edge} ÷ first {edge} tokens at 200 tok/s"])
    rows[-1] += [growth(slow), "≤ 1.5", verdict(growth(slow), 1.5)]
    for rate, r in (("200 tok/s", slow), ("full speed", fast)):
        paint = r["last_chunk_to_paint_ms"]
        rows.append([f"last chunk → final paint at {rate}, ms", paint, "≤ 100"])
        rows[-1].append(verdict(paint, 100))
    rows.append([f"{results['messages']}-message conversation: click → painted, ms"])
    rows[-1] += [opened["ms"], "", ""]
    rows.append(["… scrolls smoothly (no long task, frame p99 ≤ 33 ms)"])
    rows[-1] += [f"{len(scroll['longtasks'])} long tasks, p99 {fmt(frame_p99)} ms", "smooth"]
    rows[-1].append("meets" if smooth else "MISSES")
    table("Targets", ["figure", "measured", "target", "verdict"], rows)


def profile_tables(results: dict[str, Any]) -> None:
    opened = f"opening and scrolling the {results['messages']}-message conversation"
    runs = {**results["runs"], opened: results.get("scroll")}  # no scroll with --slow-only
    for label, r in runs.items():
        if r and "profile" in r:
            table(
                f"Where the main thread's time went: {label} (CPU profile, self time)",
                ["function (file:line)", "ms"],
                [[name, ms] for ms, name in r["profile"]],
            )


def trace_tables(results: dict[str, Any]) -> None:
    for label, r in results["runs"].items():
        if r and "trace" in r:
            edge = f"{r['edge_tokens']:,}"
            table(
                f"Main thread by trace event, {label}: first and last {edge} tokens (self ms)",
                ["event", "first", "last", "last ÷ first"],
                top_rows(r["trace"]),
            )


def report(results: dict[str, Any]) -> None:
    streaming_table(results)
    if "scroll" in results:  # the whole run, not only the 200 tok/s stream
        if any(label.startswith("naive") for label in results["runs"]):
            ratio_table(results["runs"])
        conversation_table(results)
        targets_table(results)
    profile_tables(results)
    trace_tables(results)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--profile", action="store_true", help="also print CPU profiles of each run")
    p.add_argument("--app-only", action="store_true", help="skip the naive peer (while tuning)")
    p.add_argument("--trace", action="store_true", help="also trace the 200 tok/s run")
    p.add_argument(
        "--slow-only", action="store_true", help="only the 200 tok/s stream (while tuning)"
    )
    p.add_argument("--tokens", type=int, help="tokens in the reply (default 20,000; quick 4,000)")
    args = p.parse_args()
    print_machine()
    print(f"frontend: {REPO / 'frontend'}\n")
    results = measure(args)
    save_json(args.json, results)  # first: the raw figures outlive a report that fails
    report(results)


if __name__ == "__main__":
    main()
