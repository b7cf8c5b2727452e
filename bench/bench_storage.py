"""Storage at scale: 10,000 conversations and 1,000,000 messages in a temp database; list,
open a 2,000-message conversation, full-text search and store one message, p50 and p99.

    python bench/bench_storage.py            # 10,000 conversations, 1,000,000 messages
    python bench/bench_storage.py --quick    # 1,000 conversations, 100,000 messages
    python bench/bench_storage.py --data-dir /tmp/big   # keep (or reuse) the database

Each operation is timed twice: as the app's `Store` call in this process, and as the HTTP
request the UI makes to `python -m backend --headless` serving the same file (JSON and
Flask included). Samples are taken in rounds, interleaved, so noise spreads evenly.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from _common import (
    HeadlessApp,
    fmt,
    parser,
    percentile,
    print_machine,
    save_json,
    table,
    timed,
    verdict,
)
from _corpus import MARKERS, TextMaker, generate

from backend.core.store import Store

QUERIES = {
    "rare word (≈20 messages)": MARKERS[0][0],
    "medium word (≈0.2%)": MARKERS[1][0],
    "common word (≈5%)": MARKERS[2][0],
    "very common word": "the",
    "prefix as typed": MARKERS[1][0][:4],
    "two words": "error python",
}
TARGETS_MS = {"list": 20, "open": 100, "search": 50}


def prepare(args: Any) -> tuple[Path, dict[str, str], float]:
    """The database file (generated unless --db names an existing one) and its chats."""
    conversations, messages = (1000, 100_000) if args.quick else (10_000, 1_000_000)
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-storage-"))
    folder.mkdir(parents=True, exist_ok=True)
    path, ids_file = folder / "cloudtolocalllm.db", folder / "bench-ids.txt"
    if path.exists() and ids_file.exists():
        big, small = ids_file.read_text().split()
        Store(path).close()  # migrate a file made by an older checkout
        return path, {"big": big, "small": small}, float("nan")
    Store(path).close()  # create the schema exactly as the app does
    print(f"generating {conversations:,} conversations, {messages:,} messages in {path} …")
    started = time.perf_counter()
    ids = generate(path, conversations, messages, big=2000)
    took = time.perf_counter() - started
    ids_file.write_text(f"{ids['big']} {ids['small']}")
    size = sum(f.stat().st_size for f in path.parent.glob(path.name + "*"))
    print(f"generated in {took:.0f} s; {size / 1e6:,.0f} MB\n", flush=True)
    return path, ids, took


def store_ops(store: Store, ids: dict[str, str], maker: TextMaker) -> dict[str, Any]:
    ops = {
        "list": lambda: store.list_conversations(),
        "open": lambda: store.get_conversation(ids["big"]),
        "store one message": lambda: store.add_message(ids["small"], "user", maker.text(2)),
    }
    for label, q in QUERIES.items():
        ops[f"search: {label}"] = lambda q=q: store.list_conversations(q)
    return ops


def http_ops(app: HeadlessApp, ids: dict[str, str]) -> dict[str, Any]:
    session = requests.Session()
    session.headers.update(app.headers())
    base = app.url + "api/conversations"

    def get(url: str, params: dict | None = None) -> None:
        session.get(url, params=params, timeout=60).raise_for_status()

    ops = {"list": lambda: get(base), "open": lambda: get(f"{base}/{ids['big']}")}
    for label, q in QUERIES.items():
        ops[f"search: {label}"] = lambda q=q: get(base, {"q": q})
    return ops


def sample(ops: dict[str, Any], rounds: int, per_round: int) -> dict[str, dict[str, Any]]:
    """First call of each op, then `rounds` × `per_round` timed calls, interleaved."""
    samples = {name: {"first": timed(op, 1)[0], "ms": []} for name, op in ops.items()}
    for _ in range(rounds):
        for name, op in ops.items():
            samples[name]["ms"] += timed(op, per_round)
    return samples


def results_rows(samples: dict[str, dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for name, s in samples.items():
        target = TARGETS_MS.get(name.split(":")[0])
        p50, p99 = percentile(s["ms"], 50), percentile(s["ms"], 99)
        shown = f"≤ {target}" if target else ""
        rows.append(
            [
                name,
                p50,
                p99,
                max(s["ms"]),
                s["first"],
                len(s["ms"]),
                shown,
                verdict(p99, target) if target else "",
            ]
        )
    return rows


def measure(args: Any) -> dict[str, Any]:
    path, ids, took = prepare(args)
    rounds, per_round = (3, 5) if args.quick else (5, 20)
    maker = TextMaker(seed=7)
    with Store(path) as store:
        in_process = sample(store_ops(store, ids, maker), rounds, per_round)
        counts = {"big": len(store.get_conversation(ids["big"])["messages"])}
    with HeadlessApp("http://127.0.0.1:9", path.parent) as app:
        over_http = sample(http_ops(app, ids), rounds, per_round)
    if args.data_dir is None:
        shutil.rmtree(path.parent, ignore_errors=True)
    return {"generate_s": took, "store": in_process, "http": over_http, "counts": counts}


def report(results: dict[str, Any], quick: bool) -> None:
    size = (
        "1,000 conversations, 100,000 messages"
        if quick
        else "10,000 conversations, 1,000,000 messages"
    )
    headers = [
        "operation",
        "p50 ms",
        "p99 ms",
        "max ms",
        "first call ms",
        "samples",
        "target",
        "verdict (p99)",
    ]
    table(
        f"Store calls in-process ({size}; big conversation: {results['counts']['big']:,} messages)",
        headers,
        results_rows(results["store"]),
    )
    table(
        f"HTTP requests to the headless app, as the UI makes them ({size})",
        headers,
        results_rows(results["http"]),
    )
    rows = []
    for source, label in (("store", "Store call"), ("http", "over HTTP")):
        for kind, target in TARGETS_MS.items():
            names = [n for n in results[source] if n.split(":")[0] == kind]
            p50 = max(percentile(results[source][n]["ms"], 50) for n in names)
            p99 = max(percentile(results[source][n]["ms"], 99) for n in names)
            rows.append(
                [
                    f"{kind}, {label} (worst query)",
                    fmt(p50),
                    verdict(p50, target),
                    fmt(p99),
                    verdict(p99, target),
                    f"≤ {target} ms",
                ]
            )
    table(
        "Targets",
        ["figure", "p50 ms", "verdict (p50)", "p99 ms", "verdict (p99)", "target"],
        rows,
    )


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, help="keep the generated database here (or reuse it)")
    args = p.parse_args()
    print_machine()
    results = measure(args)
    report(results, args.quick)
    save_json(args.json, results)


if __name__ == "__main__":
    main()
