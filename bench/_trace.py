"""Where the page's main thread spends its time, early and late in a streaming reply: a
Chromium trace (`devtools.timeline`, the Performance panel's events) summed by event name.

A CPU profile puts style, layout, paint and garbage collection all under "(program)"; the
trace names them. Each event's self time (its thread time, CPU, less its children's: on a
loaded machine wall time also counts the waits for a core) is counted in the window of the
stream it started in.
"""

from __future__ import annotations

import json
from typing import Any

CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8",
    "v8.execute",
    "blink",
    "blink.user_timing",
    "cc",
    "gpu",
    "loading",
]


def main_thread_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Complete events ('X') of the page's renderer main thread, in start order."""
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e["args"].get("name") == "CrRendererMain"
    }
    busiest = max(mains, key=lambda m: sum(1 for e in events if (e.get("pid"), e.get("tid")) == m))
    picked = [
        e
        for e in events
        if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) == busiest and "dur" in e
    ]
    return sorted(picked, key=lambda e: (e["ts"], -e["dur"]))


def self_times(events: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """(name, start µs, self CPU µs) for each event: nested events are taken out of their
    parent (nesting by wall time, the CPU time by `tdur`, or `dur` where there is none)."""
    out: list[list[Any]] = []
    stack: list[tuple[float, int]] = []  # (end, index in out)
    for e in events:
        start, end, cpu = e["ts"], e["ts"] + e["dur"], float(e.get("tdur", e["dur"]))
        while stack and stack[-1][0] <= start:
            stack.pop()
        if stack:
            out[stack[-1][1]][2] -= cpu
        out.append([e["name"], start, cpu])
        stack.append((end, len(out) - 1))
    return [(name, start, max(own, 0.0)) for name, start, own in out]


def marks(events: list[dict[str, Any]], *names: str) -> list[float]:
    """The trace times (µs) of the page's `performance.mark`s of these names."""
    found = {e["name"]: e["ts"] for e in events if e.get("name") in names and "ts" in e}
    return [found[name] for name in names]


def windows(trace: bytes, share: float) -> dict[str, dict[str, float]]:
    """Self CPU ms by event name over the first and the last `share` of the stream, between
    the probe's marks `stream-start` and `stream-end` (the `complete` frame)."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    start, end = marks(events, "stream-start", "stream-end")
    span = end - start
    edges = {"first": (start, start + span * share), "last": (end - span * share, end)}
    totals: dict[str, dict[str, float]] = {"first": {}, "last": {}}
    for name, at, own_us in self_times(main_thread_events(events)):
        for label, (lo, hi) in edges.items():
            if lo <= at < hi:
                totals[label][name] = totals[label].get(name, 0.0) + own_us / 1000
    return totals


def top_rows(totals: dict[str, dict[str, float]], n: int = 18) -> list[list[Any]]:
    """[name, first ms, last ms, last ÷ first], biggest growth in absolute ms first."""
    names = set(totals["first"]) | set(totals["last"])
    rows = []
    for name in names:
        first, last = totals["first"].get(name, 0.0), totals["last"].get(name, 0.0)
        rows.append([name, first, last, last / first if first else float("nan")])
    rows.sort(key=lambda r: -(r[2] - r[1]) if r[2] + r[1] > 1 else 0)
    return rows[:n]
