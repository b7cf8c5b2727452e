"""Streaming pipeline: the fake Ollama's NDJSON read directly (the limit) against the same
tokens through the app to a WebSocket client; throughput, added latency, database writes.

    python bench/bench_stream.py            # 20,000 tokens (9 runs), 1,000 at 50 tok/s (3 runs)
    python bench/bench_stream.py --quick    # 5,000 tokens, 250 at 50 tok/s, 2 repeats

Three processes, as in real use: the fake Ollama runs in this process (it stamps every
line's `created_at`, and keeps the stamps), the app runs as `python -m backend --headless`,
and each reader runs in a process of its own and reports when every token reached it.
"""
# Over 300 lines on purpose: the readers compared must sit side by side in one run.

from __future__ import annotations

import calendar
import contextlib
import json
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

from _common import (
    HeadlessApp,
    median,
    parser,
    percentile,
    print_machine,
    run_json,
    save_json,
    spread,
    table,
    verdict,
)
from _ws import RawWebSocket

import tests.fake_ollama as fake_module
from tests.fake_ollama import FakeOllama

MODEL = "llama3.2"
SLOW_RATE = 50.0  # tokens per second
READERS = {
    "ndjson": "A: NDJSON read directly (http.client + orjson)",
    "loads": "A₂: NDJSON read directly, json.loads per line (a typical client)",
    "client": "A′: the app's OllamaClient alone",
    "ws": "B: through the app to a WebSocket client",
}

# -- readers (each runs in its own process: `bench_stream.py --reader KIND URL TOKENS`) ------


def read_ndjson(url: str, tokens: int, *, fastest: bool = True) -> dict[str, Any]:
    """The limit: POST /api/chat and parse every line as it arrives; nothing else.

    `fastest`: each line goes to orjson, the fastest JSON parser Python has (and the app's),
    so no Python reader parses Ollama's stream faster. Otherwise json.loads per line, as a
    typical client does."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "bench"}]})
    reads: list[tuple[int, int]] = []  # (receive time, lines completed by this read)
    import orjson

    parse = orjson.loads if fastest else json.loads
    t_send = time.time_ns()
    conn.request("POST", "/api/chat", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    pending, done = b"", False
    while not done:
        data = response.read1(65536)
        if not data:
            break
        now = time.time_ns()
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        count = 0
        for line in lines:
            obj = parse(line)
            if obj.get("done"):
                done = True
                break
            if obj["message"]["content"]:
                count += 1
        reads.append((now, count))
    t_done = time.time_ns()
    arrivals = [at for at, count in reads for _ in range(count)]
    return {
        "t_send": t_send,
        "t_done": t_done,
        "chunks": [[at, i, 1] for i, at in enumerate(arrivals)],
    }


def read_client(url: str, tokens: int) -> dict[str, Any]:
    """The app's Ollama client without the app: its share of the cost."""
    from backend.core.providers.base import ChatDone, ContentDelta
    from backend.core.providers.ollama import OllamaClient

    client = OllamaClient(url)
    client.version()  # connect once, as the app's monitor has long done before a send
    chunks, index = [], 0
    t_send = time.time_ns()
    for event in client.chat_stream(MODEL, [{"role": "user", "content": "bench"}]):
        if type(event) is ContentDelta:
            chunks.append([time.time_ns(), index, 1])
            index += 1
        elif isinstance(event, ChatDone):
            break
    return {"t_send": t_send, "t_done": time.time_ns(), "chunks": chunks}


def read_ws(ws_url: str, tokens: int, prefix: int = 0) -> dict[str, Any]:
    """A WebSocket client of the app: sends chat.send, checks seq and text, times chunks.

    The reply is `prefix` characters of filler, then `tokens` tokens `tok{i} `.
    """
    ws = RawWebSocket(ws_url)
    while ws.recv()["type"] != "status":
        pass
    chunks, texts, seqs, next_index, t_start, skip = [], [], [], 0, 0, prefix
    frame: dict[str, Any] = {}
    t_send = time.time_ns()
    ws.send(
        {
            "type": "chat.send",
            "request_id": "bench",
            "conversation_id": None,
            "content": "bench",
            "model": MODEL,
        }
    )
    while True:
        raw = ws.recv_text()
        now = time.time_ns()
        frame = json.loads(raw)
        kind = frame["type"]
        if kind == "status":
            continue
        seqs.append(frame["seq"])
        if kind == "start":
            t_start = now
        elif kind == "chunk":
            texts.append(frame["delta"])
            delta = frame["delta"][skip:]
            skip -= len(frame["delta"]) - len(delta)
            if not delta:
                continue
            first = int(delta[3 : delta.index(" ")])  # "tok{i} tok{i+1} …"
            count = delta.count("tok")
            if first != next_index:
                raise AssertionError(f"token {next_index} lost: chunk starts at {first}")
            chunks.append([now, first, count])
            next_index += count
        elif kind in ("complete", "cancelled", "error"):
            break
    t_done = time.time_ns()
    ws.close()
    text = "".join(texts)
    problems = []
    if seqs != list(range(len(seqs))):
        problems.append("seq is not gap-free from 0")
    if frame.get("type") != "complete" or frame.get("content") != text:
        problems.append(f"final frame {frame.get('type')} does not hold the deltas' text")
    if next_index != tokens:
        problems.append(f"{tokens - next_index} tokens lost")
    return {
        "t_send": t_send,
        "t_start": t_start,
        "t_done": t_done,
        "chunks": chunks,
        "frames": len(seqs),
        "message_id": frame.get("message_id"),
        "problems": problems,
    }


# -- the bench process ----------------------------------------------------------------


class StampedFake:
    """The fake Ollama, keeping every `created_at` it writes (one per line, in order)."""

    def __init__(self) -> None:
        self.stamps: list[str] = []
        self.prefixed = False
        original = fake_module.now_rfc3339nano

        def stamp() -> str:
            text = original()
            self.stamps.append(text)
            return text

        fake_module.now_rfc3339nano = stamp  # the handler looks it up at every line
        self.fake = FakeOllama().start()

    def arm(self, tokens: int, rate: float | None, prefix: str = "") -> None:
        """The next reply: `prefix` as one line, then `tokens` lines `tok{i} `."""
        self.stamps.clear()
        self.prefixed = bool(prefix)
        self.fake.token_count = None
        self.fake.tokens = [prefix] * self.prefixed + [f"tok{i} " for i in range(tokens)]
        self.fake.token_delay = 1 / rate if rate else 0.0

    def token_times(self, tokens: int) -> list[int]:
        """created_at of token i, in ns since the epoch (the last stamp is the done line)."""
        stamps = self.stamps[1:] if self.prefixed else self.stamps
        if len(stamps) != tokens + 1:
            raise RuntimeError(f"expected {tokens + 1} stamped lines, got {len(stamps)}")
        return [rfc3339nano_ns(s) for s in stamps[:tokens]]


def rfc3339nano_ns(text: str) -> int:
    whole, _, frac = text.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def filler(chars: int) -> str:
    """Text of a long reply so far: words, as a search index would have to split them."""
    words = ("the", "model", "streams", "tokens", "quickly", "while", "sqlite", "keeps", "up")
    text, size, i = [], 0, 0
    while size < chars:
        text.append(f"{words[i % len(words)]}{i % 4999} ")
        size += len(text[-1])
        i += 1
    return "".join(text)[: max(chars - 1, 0)] + " " * bool(chars)


def analyse(result: dict[str, Any], born: list[int], tokens: int) -> dict[str, Any]:
    """Throughput, time to first token, and latency of each chunk's oldest token."""
    chunks = result["chunks"]
    latencies = [(at - born[first]) / 1e6 for at, first, _count in chunks]
    elapsed = (result["t_done"] - result["t_send"]) / 1e9
    # While tokens flow: from the first chunk's arrival to the last's, without the fixed
    # cost of a send (the app's bookkeeping, and the fake encoding its whole reply first).
    flowing = (chunks[-1][0] - chunks[0][0]) / 1e9 if len(chunks) > 1 else float("nan")
    return {
        "tokens_per_s": tokens / elapsed,
        "flowing_tokens_per_s": (tokens - chunks[0][2]) / flowing,
        "elapsed_s": elapsed,
        "ttft_ms": (chunks[0][0] - result["t_send"]) / 1e6,
        "start_ms": (result["t_start"] - result["t_send"]) / 1e6 if "t_start" in result else None,
        "chunks": len(chunks),
        "latency_ms": latencies,
        "problems": result.get("problems", []),
        "message_id": result.get("message_id"),
    }


def run_reader(kind: str, target: str, tokens: int, prefix: int = 0) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    return run_json([sys.executable, script, "--reader", kind, target, str(tokens), str(prefix)])


class WriteCounter:
    """A trigger in the app's database that logs every UPDATE of a message, with its time."""

    def __init__(self, db_path: Path) -> None:
        from backend.core.store import Store

        Store(db_path).close()  # create and migrate the schema as the app would
        self.db_path = db_path
        with sqlite3.connect(db_path) as conn:
            conn.executescript(
                """CREATE TABLE bench_writes (message_id TEXT, at REAL, status TEXT);
                CREATE TRIGGER bench_count_writes AFTER UPDATE ON messages BEGIN
                  INSERT INTO bench_writes
                  VALUES (new.id, (julianday('now') - 2440587.5) * 86400.0, new.status);
                END;"""
            )

    def report(self, run: dict[str, Any]) -> dict[str, Any]:
        """The reply's writes against the rule: one per 250 ms of streaming, plus the final."""
        with sqlite3.connect(self.db_path) as conn:
            sql = "SELECT at, status FROM bench_writes WHERE message_id = ? ORDER BY rowid"
            writes = conn.execute(sql, (run["message_id"],)).fetchall()
        gaps = [(b[0] - a[0]) * 1000 for a, b in zip(writes, writes[1:], strict=False)]
        return {
            "reply_s": run["elapsed_s"],
            "writes": len(writes),
            "progress_writes": sum(1 for w in writes if w[1] == "streaming"),
            "allowed": 1 + int(run["elapsed_s"] / 0.25),
            "min_gap_ms": min(gaps[:-1]) if len(gaps) > 1 else float("nan"),
        }


class Config(NamedTuple):
    label: str
    rate: float | None  # tokens per second; None: as fast as the fake can send
    tokens: int
    readers: tuple[str, ...]
    repeat: int
    prefix: int = 0  # characters of filler before the timed tokens
    busy: bool = False  # another connection holds the database's write lock now and then


def configurations(quick: bool, repeat: int | None) -> list[Config]:
    # A full-speed run lasts ~0.1 s, so one descheduling moves it a lot: nine runs each.
    full, slow, fast_runs, slow_runs = (5000, 250, 3, 2) if quick else (20000, 1000, 9, 3)
    fast_runs, slow_runs = repeat or fast_runs, repeat or slow_runs
    return [
        Config("full", None, full, ("ndjson", "loads", "client", "ws"), fast_runs),
        Config("50 tok/s", SLOW_RATE, slow, ("ndjson", "ws"), slow_runs),
        # Deep into a 20,000-token reply: every progress write stores ~120 KB (the search
        # index no longer re-indexes it: a reply is indexed once it is finished).
        Config("50 tok/s deep", SLOW_RATE, slow, ("ws",), slow_runs, prefix=120_000),
        Config("50 tok/s DB busy", SLOW_RATE, slow, ("ws",), slow_runs, busy=True),
    ]


class DatabaseHog:
    """Another writer: holds SQLite's write lock for `hold` seconds every `every` seconds,
    as a long write elsewhere in the app would (an import, a big delete, a checkpoint)."""

    def __init__(self, db_path: Path, hold: float = 0.05, every: float = 0.5) -> None:
        self.db_path, self.hold, self.every = db_path, hold, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DatabaseHog:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=30)
        while not self.stop.wait(self.every - self.hold):
            conn.execute("BEGIN IMMEDIATE")
            time.sleep(self.hold)
            conn.execute("COMMIT")
        conn.close()


def measure(args: Any) -> dict[str, Any]:
    plan = configurations(args.quick, args.repeat)
    source = StampedFake()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    try:
        return measure_in(data_dir, plan, source)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def measure_in(data_dir: Path, plan: list[Config], source: StampedFake) -> dict[str, Any]:
    counter = WriteCounter(data_dir / "cloudtolocalllm.db")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with HeadlessApp(source.fake.url, data_dir) as app:
        for config in plan:
            for i in range(config.repeat):
                for kind in config.readers:
                    run = measure_one(app, source, counter, config, kind)
                    runs.setdefault((config.label, kind), []).append(run)
                    print(
                        f"  {config.label:16s} run {i + 1}/{config.repeat} {kind:6s} "
                        f"{run['tokens_per_s']:9,.0f} tok/s  p99 "
                        f"{percentile(run['latency_ms'], 99):7.2f} ms",
                        flush=True,
                    )
        rss = app.status()
    return {
        "full": plan[0].tokens,
        "slow": plan[1].tokens,
        "repeat": plan[0].repeat,
        "slow_repeat": plan[1].repeat,
        "runs": runs,
        "rss_kb": rss,
    }


def measure_one(
    app: HeadlessApp, source: StampedFake, counter: WriteCounter, config: Config, kind: str
) -> dict[str, Any]:
    source.arm(config.tokens, config.rate, filler(config.prefix))
    target = app.ws_url if kind == "ws" else source.fake.url
    hog = DatabaseHog(counter.db_path) if config.busy else contextlib.nullcontext()
    with hog:
        result = run_reader(kind, target, config.tokens, config.prefix)
    run = analyse(result, source.token_times(config.tokens), config.tokens)
    if kind == "ws":
        run["db"] = counter.report(run)
    return run


def throughput_table(results: dict[str, Any]) -> list[float]:
    runs, full = results["runs"], results["full"]
    rows, rate = [], {}
    for kind, label in READERS.items():
        done = runs[("full", kind)]
        rate[kind] = [r["tokens_per_s"] for r in done]
        flowing = [r["flowing_tokens_per_s"] for r in done]
        rows.append(
            [
                label,
                median(rate[kind]),
                spread(rate[kind]),
                median(flowing),
                median(r["ttft_ms"] for r in done),
                full / median(r["chunks"] for r in done),
            ]
        )
    ratios = {}
    for limit, name in (("ndjson", "B/A"), ("loads", "B/A₂")):
        # Per pair of runs made one after the other: the machine's load drifts.
        ratio = [b / a for a, b in zip(rate[limit], rate["ws"], strict=True)]
        flow = [
            b["flowing_tokens_per_s"] / a["flowing_tokens_per_s"]
            for a, b in zip(runs[("full", limit)], runs[("full", "ws")], strict=True)
        ]
        rows.append([name, median(ratio), spread(ratio), median(flow), "", ""])
        ratios[name] = ratio
    ratio = ratios["B/A"]
    table(
        f"Throughput: {full:,} tokens as fast as the fake can send them "
        f"(median of {results['repeat']} runs)",
        [
            "path",
            "tokens/s (send → last)",
            "spread",
            "tokens/s (first → last)",
            "first token ms",
            "tokens per chunk",
        ],
        rows,
    )
    return ratio


def latency_table(results: dict[str, Any]) -> dict[tuple[str, str], float]:
    """Per configuration: the median over runs of each run's p50 and p99 (one noisy run on
    this shared machine moves a pooled p99 a lot), and the pooled figures beside them."""
    rows, p99s = [], {}
    for (label, kind), done in results["runs"].items():
        if kind in ("client", "loads"):
            continue
        samples = [x for r in done for x in r["latency_ms"]]
        per_run = [percentile(r["latency_ms"], 99) for r in done]
        p99s[(label, kind)] = median(per_run)
        rows.append(
            [
                label,
                READERS[kind][:2].rstrip(":"),
                median(percentile(r["latency_ms"], 50) for r in done),
                median(per_run),
                spread(per_run),
                percentile(samples, 99),
                max(samples),
                len(samples),
            ]
        )
    table(
        "Latency per chunk: the fake's `created_at` of the chunk's oldest token to the reader"
        f" (ms; {results['slow']:,} tokens at 50 tok/s, {results['full']:,} at full speed)",
        ["rate", "path", "p50", "p99", "p99 per run", "p99 pooled", "max", "chunks"],
        rows,
    )
    return p99s


def writes_table(results: dict[str, Any]) -> bool:
    rows, ok = [], True
    for (label, kind), done in results["runs"].items():
        for r in done if kind == "ws" else []:
            d = r["db"]
            ok &= d["writes"] <= d["allowed"]
            rows.append(
                [
                    label,
                    d["reply_s"],
                    d["progress_writes"],
                    d["writes"],
                    d["allowed"],
                    d["min_gap_ms"],
                    verdict(d["writes"], d["allowed"]),
                ]
            )
    table(
        "Database writes of one reply (a trigger logs each UPDATE of the message)",
        [
            "rate",
            "reply s",
            "progress writes",
            "all writes",
            "allowed (1 per 250 ms + final)",
            "min gap ms",
            "verdict",
        ],
        rows,
    )
    return ok


def report(results: dict[str, Any]) -> None:
    ratio = throughput_table(results)
    p99s = latency_table(results)
    db_ok = writes_table(results)
    rate_b = median(r["tokens_per_s"] for r in results["runs"][("full", "ws")])
    problems = sorted({p for rs in results["runs"].values() for r in rs for p in r["problems"]})
    p99 = {label: value for (label, kind), value in p99s.items() if kind == "ws"}
    slow_a = p99s[("50 tok/s", "ndjson")]
    table(
        "Targets",
        ["figure", "measured", "target", "verdict"],
        [
            ["B tokens/s", rate_b, "≥ 20,000", verdict(rate_b, 20000, higher_is_better=True)],
            ["B/A", median(ratio), "≥ 0.5", verdict(median(ratio), 0.5, higher_is_better=True)],
            ["B latency p99 at 50 tok/s, ms", p99["50 tok/s"], "≤ 5", verdict(p99["50 tok/s"], 5)],
            [
                "… deep in a 20,000-token reply, ms",
                p99["50 tok/s deep"],
                "≤ 5",
                verdict(p99["50 tok/s deep"], 5),
            ],
            [
                "… while another writer holds the database 10% of the time, ms",
                p99["50 tok/s DB busy"],
                "≤ 5",
                verdict(p99["50 tok/s DB busy"], 5),
            ],
            [
                "… added by the app (B p99 − A p99 at 50 tok/s), ms",
                p99["50 tok/s"] - slow_a,
                "",
                "",
            ],
            ["DB writes per reply", "see above", "≤ 1 per 250 ms", "meets" if db_ok else "MISSES"],
            [
                "seq gap-free, nothing lost",
                "; ".join(problems) or "yes",
                "yes",
                "MISSES" if problems else "meets",
            ],
        ],
    )


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--reader":
        kind, target, tokens, prefix = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        if kind == "ws":
            print(json.dumps(read_ws(target, tokens, prefix)))
        else:
            readers = {
                "ndjson": read_ndjson,
                "loads": lambda url, n: read_ndjson(url, n, fastest=False),
                "client": read_client,
            }
            print(json.dumps(readers[kind](target, tokens)))
        return
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, help="runs per configuration")
    args = p.parse_args()
    print_machine()
    results = measure(args)
    report(results)
    runs = {f"{k[0]}/{k[1]}": v for k, v in results["runs"].items()}
    save_json(args.json, {**results, "runs": runs})


if __name__ == "__main__":
    main()
