"""A real OpenAI-compatible server beside the fake Ollama, through the same app: llama.cpp's
own server (the xllamacpp wheel, tests/llama_server_process.py) with the tiny random-weight
llama of tests/tiny_gguf.py, and the fake Ollama sending the same number of tokens. Each
is read directly (its limit) and through the app to a WebSocket client.

    python bench/bench_llama_server.py          # 4,000-token replies, 5 runs of each reader
    python bench/bench_llama_server.py --quick  # 1,000 tokens, 3 runs

Needs the realserver extra (`pip install -e ".[realserver]"`). llama.cpp computes every
token (one thread; the model is tiny, so its rate is the server's, not a big model's); the
fake Ollama sends as fast as the socket takes. Each reader runs in its own process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    REPO,
    HeadlessApp,
    median,
    reader_bench_main,
    run_json,
    spread,
    table,
)
from _ws import RawWebSocket

from tests.fake_ollama import FakeOllama

LLAMA_MODEL, OLLAMA_MODEL = "tiny-llama", "llama3.2"
READERS = {
    "llama-direct": "llama.cpp: its SSE read directly (A)",
    "llama-app": "llama.cpp: through the app to a WebSocket client (B)",
    "ollama-direct": "fake Ollama: its NDJSON read directly (A)",
    "ollama-app": "fake Ollama: through the app to a WebSocket client (B)",
}

# -- readers (each in its own process: `bench_llama_server.py --reader KIND TARGET N`) ----


def read_llama_direct(url: str, tokens: int) -> dict[str, Any]:
    import requests

    body = {"model": LLAMA_MODEL, "messages": [{"role": "user", "content": "hello world"}],
            "stream": True, "max_tokens": tokens,
            "stream_options": {"include_usage": True}}  # fmt: skip
    t_send, first, last, count = time.time_ns(), None, None, 0
    with requests.post(url + "/chat/completions", json=body, stream=True, timeout=120) as r:
        for line in r.iter_lines():
            if not line.startswith(b"data: {"):
                continue
            event = json.loads(line[6:])
            if any(c["delta"].get("content") for c in event["choices"]):
                first, last = first or time.time_ns(), time.time_ns()
            if event.get("usage"):
                count = event["usage"]["completion_tokens"]
    return {"t_send": t_send, "first": first, "last": last, "tokens": count}


def read_ollama_direct(url: str, tokens: int) -> dict[str, Any]:
    import requests

    body = {"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": "b"}]}
    t_send, first, last, count = time.time_ns(), None, None, 0
    with requests.post(url + "/api/chat", json=body, stream=True, timeout=120) as r:
        for line in r.iter_lines():
            event = json.loads(line)
            if event.get("message", {}).get("content"):
                first, last = first or time.time_ns(), time.time_ns()
            if event.get("done"):
                count = event["eval_count"]
    return {"t_send": t_send, "first": first, "last": last, "tokens": count}


def read_app(target: str, tokens: int) -> dict[str, Any]:
    """chat.send to an endpoint of the app; the token count is the reply's eval_count."""
    ws_url, endpoint_id, model = target.split("#")
    ws = RawWebSocket(ws_url)
    while ws.recv()["type"] != "status":
        pass
    t_send, first, last = time.time_ns(), None, None
    ws.send({"type": "chat.send", "request_id": "bench", "conversation_id": None,
             "content": "hello world", "model": model, "endpoint_id": endpoint_id,
             "options": {"num_predict": tokens}})  # fmt: skip
    while True:
        frame = json.loads(ws.recv_text())
        if frame["type"] == "chunk" and frame["delta"]:
            first, last = first or time.time_ns(), time.time_ns()
        elif frame["type"] in ("complete", "cancelled", "error"):
            break
    ws.close()
    count = frame.get("stats", {}).get("eval_count") if frame["type"] == "complete" else 0
    return {"t_send": t_send, "first": first, "last": last, "tokens": count or 0}


READ = {"llama-direct": read_llama_direct, "ollama-direct": read_ollama_direct,
        "llama-app": read_app, "ollama-app": read_app}  # fmt: skip

# -- the bench process ---------------------------------------------------------------


def start_llama(folder: Path) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "tests.llama_server_process", str(folder), LLAMA_MODEL]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=log)
    line = process.stdout.readline().decode()
    if not line.startswith("listening "):
        raise RuntimeError((folder / "server.log").read_text()[-2000:])
    return process, line.split()[1] + "/v1"


def run_reader(kind: str, target: str, tokens: int) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    r = run_json([sys.executable, script, "--reader", kind, target, str(tokens)])
    problems = [] if r["tokens"] == tokens else [f"{kind}: {r['tokens']} of {tokens} tokens"]
    return {
        "tokens_per_s": r["tokens"] / ((r["last"] - r["t_send"]) / 1e9),
        "ttft_ms": (r["first"] - r["t_send"]) / 1e6,
        "problems": problems,
    }


def measure(tokens: int, repeat: int) -> dict[str, list[dict[str, Any]]]:
    folder = Path(tempfile.mkdtemp(prefix="bench-llama-"))
    fake = FakeOllama().start()
    fake.tokens = [f"tok{i} " for i in range(tokens)]
    llama, llama_url = start_llama(folder)
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in READERS}
    try:
        with HeadlessApp(fake.url, folder / "data") as app:
            fields = {"name": "llama.cpp", "kind": "openai", "base_url": llama_url}
            answer = app.request("POST", "/api/endpoints", json=fields)
            answer.raise_for_status()
            llama_id = answer.json()["id"]
            targets = {
                "llama-direct": llama_url,
                "llama-app": f"{app.ws_url}#{llama_id}#{LLAMA_MODEL}",
                "ollama-direct": fake.url,
                "ollama-app": f"{app.ws_url}#ollama#{OLLAMA_MODEL}",
            }
            wait_connected(app, llama_id)
            for i in range(repeat):
                for kind in READERS:
                    run = run_reader(kind, targets[kind], tokens)
                    runs[kind].append(run)
                    print(f"  run {i + 1}/{repeat} {kind:14s} {run['tokens_per_s']:10,.0f} tok/s"
                          f"  first token {run['ttft_ms']:7.1f} ms")  # fmt: skip
    finally:
        llama.terminate()
        llama.wait(10)
        llama.stdout.close()
        fake.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return runs


def wait_connected(app: HeadlessApp, endpoint_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = app.request("GET", f"/api/endpoints/{endpoint_id}").json()["status"]
        if status["state"] == "connected":
            return
        time.sleep(0.1)
    raise RuntimeError(f"llama.cpp never connected: {status}")


def report(runs: dict[str, list[dict[str, Any]]], tokens: int) -> None:
    def values(kind: str, key: str) -> list[float]:
        return [r[key] for r in runs[kind]]

    rows = [[label, f"{median(values(k, 'tokens_per_s')):,.0f}", spread(values(k, "tokens_per_s")),
             f"{median(values(k, 'ttft_ms')):.1f}"]
            for k, label in READERS.items()]  # fmt: skip
    table(f"{tokens:,}-token replies, send to last token", ["reader", "tokens/s", "range",
          "first token ms"], rows)  # fmt: skip

    def ratio(server: str) -> float:  # each run's pair ran back to back: fair when noisy
        pairs = zip(values(f"{server}-direct", "tokens_per_s"), values(f"{server}-app",
                    "tokens_per_s"), strict=True)  # fmt: skip
        return median([b / a for a, b in pairs])

    def added(server: str) -> float:
        return median(values(f"{server}-app", "ttft_ms")) - median(
            values(f"{server}-direct", "ttft_ms")
        )

    rows = [[name, f"{ratio(s):.3f}", f"{added(s):.1f}"]
            for s, name in (("llama", "llama.cpp"), ("ollama", "fake Ollama"))]  # fmt: skip
    table("Through the app against the server read directly", ["server", "B/A tokens/s",
          "first token, ms added"], rows)  # fmt: skip
    problems = [p for done in runs.values() for r in done for p in r["problems"]]
    print("every reply ran to its length:", "yes" if not problems else problems)


def main() -> None:
    reader_bench_main(__doc__, READ, ((1_000, 3), (4_000, 5)), measure, report)


if __name__ == "__main__":
    main()
