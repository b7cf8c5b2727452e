"""The OpenAI-compatible path: the fake OpenAI server's SSE read directly (the limit)
against the same tokens through the app's OpenAIClient, and through the app to a
WebSocket client (an endpoint added over REST, `chat.send` with its `endpoint_id`).

    python bench/bench_openai_stream.py          # 20,000 tokens, 7 runs of each reader
    python bench/bench_openai_stream.py --quick  # 5,000 tokens, 3 runs

The fake runs in this process and sends a reply encoded once before the runs, as fast as
the socket takes it; the app runs as `python -m backend --headless`; each reader runs in
a process of its own. Tokens/s counts from the send to the last token's arrival (as
bench_stream.py does), and again from the first token to the last ("while flowing").
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import HeadlessApp, median, reader_bench_main, run_json, spread, table
from _common import verdict as judge
from _ws import RawWebSocket

from tests.fake_openai import FakeOpenAI, _event, _Reply

MODEL = "llama3.2"
READERS = {
    "sse": "A: SSE read directly (http.client + orjson)",
    "client": "A′: the app's OpenAIClient alone",
    "ws": "B: through the app to a WebSocket client",
}

# -- readers (each in its own process: `bench_openai_stream.py --reader KIND TARGET N`) ---


def read_sse(url: str, tokens: int) -> dict[str, Any]:
    """The limit: POST /v1/chat/completions and parse each event as it arrives."""
    import http.client
    from urllib.parse import urlsplit

    import orjson

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "b"}],
                       "stream": True, "stream_options": {"include_usage": True}})  # fmt: skip
    arrivals: list[int] = []
    t_send = time.time_ns()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    pending, done = b"", False
    while not done and (data := response.read1(65536)):
        now = time.time_ns()
        events = (pending + data).split(b"\n\n")
        pending = events.pop()
        for event in events:
            payload = event[6:]  # "data: "
            if payload == b"[DONE]":
                done = True
                break
            for choice in orjson.loads(payload)["choices"]:
                if choice["delta"].get("content"):
                    arrivals.append(now)
    return {"t_send": t_send, "arrivals": arrivals}


def read_client(url: str, tokens: int) -> dict[str, Any]:
    """The app's OpenAI client without the app: its share of the cost."""
    from backend.core.providers.base import ContentDelta
    from backend.core.providers.openai import OpenAIClient

    client = OpenAIClient(url)
    client.version()  # connect once, as the endpoint's monitor has long done
    arrivals: list[int] = []
    t_send = time.time_ns()
    with client.chat_stream(MODEL, [{"role": "user", "content": "b"}]) as stream:
        for batch in stream.batches():
            now = time.time_ns()
            for event in batch:  # a read's text comes as one delta: count its tokens
                if type(event) is ContentDelta:
                    arrivals += [now] * event.text.count("tok")
    return {"t_send": t_send, "arrivals": arrivals}


def read_ws(target: str, tokens: int) -> dict[str, Any]:
    """A WebSocket client of the app: chat.send to the endpoint; times each token."""
    ws_url, endpoint_id = target.rsplit("#", 1)
    ws = RawWebSocket(ws_url)
    while ws.recv()["type"] != "status":
        pass
    t_send = time.time_ns()
    ws.send({"type": "chat.send", "request_id": "bench", "conversation_id": None,
             "content": "b", "model": MODEL, "endpoint_id": endpoint_id})  # fmt: skip
    arrivals: list[int] = []
    texts: list[str] = []
    while True:
        frame = json.loads(ws.recv_text())
        now = time.time_ns()
        if frame["type"] == "chunk":
            texts.append(frame["delta"])
            arrivals += [now] * frame["delta"].count("tok")
        elif frame["type"] in ("complete", "cancelled", "error"):
            break
    ws.close()
    ok = frame["type"] == "complete" and frame["content"] == "".join(texts)
    problems = [] if ok else [f"ended {frame['type']}"]
    return {"t_send": t_send, "arrivals": arrivals, "problems": problems}


# -- the bench process ---------------------------------------------------------------


def add_endpoint(app: HeadlessApp, url: str) -> str:
    fields = {"name": "bench", "kind": "openai", "base_url": url}
    answer = app.request("POST", "/api/endpoints", json=fields)
    answer.raise_for_status()
    return answer.json()["id"]


def run_reader(kind: str, target: str, tokens: int) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    result = run_json([sys.executable, script, "--reader", kind, target, str(tokens)])
    arrivals = result["arrivals"]
    if len(arrivals) != tokens:
        result.setdefault("problems", []).append(f"{tokens - len(arrivals)} tokens lost")
    elapsed = (arrivals[-1] - result["t_send"]) / 1e9
    flowing = (arrivals[-1] - arrivals[0]) / 1e9 if len(arrivals) > 1 else float("nan")
    return {
        "tokens_per_s": len(arrivals) / elapsed,
        "flowing_tokens_per_s": (len(arrivals) - 1) / flowing,
        "ttft_ms": (arrivals[0] - result["t_send"]) / 1e6,
        "problems": result.get("problems"),
    }


def prebuilt_reply(tokens: int) -> bytes:
    """The whole SSE body of a `tokens`-token reply, encoded once before the runs, so
    that the fake sends as fast as the socket takes it and the readers measure themselves."""
    fake = FakeOpenAI()
    fake.tokens = [f"tok{i} " for i in range(tokens)]
    reply = _Reply(fake, {"model": MODEL, "stream_options": {"include_usage": True}})
    events = [reply.chunk(delta) for delta in reply.token_deltas()] + reply.ending()
    return b"".join(_event(fake, event) for event in events) + _event(fake, "[DONE]")


def measure(tokens: int, repeat: int) -> dict[str, list[dict[str, Any]]]:
    fake = FakeOpenAI().start()
    fake.raw_stream = prebuilt_reply(tokens)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-openai-"))
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in READERS}
    try:
        with HeadlessApp(fake.url, data_dir) as app:
            endpoint_id = add_endpoint(app, fake.url + "/v1")
            targets = {"sse": fake.url, "client": fake.url, "ws": f"{app.ws_url}#{endpoint_id}"}
            for i in range(repeat):
                for kind in READERS:
                    run = run_reader(kind, targets[kind], tokens)
                    runs[kind].append(run)
                    print(
                        f"  run {i + 1}/{repeat} {kind:6s} {run['tokens_per_s']:10,.0f} tok/s"
                        f"  (flowing {run['flowing_tokens_per_s']:10,.0f})"
                    )
    finally:
        fake.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return runs


def report(runs: dict[str, list[dict[str, Any]]], tokens: int) -> None:
    def rates(kind: str, key: str) -> list[float]:
        return [r[key] for r in runs[kind]]

    rows = [
        [label, f"{median(rates(k, 'tokens_per_s')):,.0f}", spread(rates(k, "tokens_per_s")),
         f"{median(rates(k, 'flowing_tokens_per_s')):,.0f}",
         f"{median(rates(k, 'ttft_ms')):.1f}"]
        for k, label in READERS.items()
    ]  # fmt: skip
    headers = ["reader", "tokens/s", "range", "while flowing", "first token ms"]
    table(f"{tokens:,} tokens, send to last token", headers, rows)

    # Each run's readers ran back to back, so their ratio is fair even on a noisy machine.
    def ratio(kind: str, key: str) -> float:
        pairs = zip(rates("sse", key), rates(kind, key), strict=True)
        return median([b / a for a, b in pairs])

    ws, client = ratio("ws", "tokens_per_s"), ratio("client", "tokens_per_s")
    rows = [
        ["B/A: through the app to a WebSocket client", f"{ws:.3f}", "≥ 0.5",
         judge(ws, 0.5, higher_is_better=True)],
        ["… while tokens flow", f"{ratio('ws', 'flowing_tokens_per_s'):.3f}", "", ""],
        ["A′/A: the OpenAI client alone", f"{client:.3f}", "", ""],
    ]  # fmt: skip
    table("Against the bare SSE reader", ["figure", "measured", "target", "verdict"], rows)
    problems = [p for done in runs.values() for r in done for p in r["problems"] or []]
    print("every token delivered, final content = the deltas:", "yes" if not problems else problems)


def main() -> None:
    readers = {"sse": read_sse, "client": read_client, "ws": read_ws}
    reader_bench_main(__doc__, readers, ((5_000, 3), (20_000, 7)), measure, report)


if __name__ == "__main__":
    main()
