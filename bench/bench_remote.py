"""Remote access through the relay: the latency it adds per chunk at 50 tok/s, many streams
through one relay process, and the time from scanning the QR code to the first token.

    python bench/bench_remote.py            # 500 tokens at 50 tok/s; 200 streams for 10 s
    python bench/bench_remote.py --quick    # 150 tokens; 50 streams for 5 s

Added latency is measured inside one process: the desktop's clock when a socket frame
enters the channel (sealed, sent to the relay) and when the phone has opened it, for the
whole app (fake Ollama, app in this process, relay as its own process, a phone in Python).
The streams figure drives the relay alone (one desktop and one device per stream, frames of
200 bytes, each stream sending its next frame 20 ms after the last arrived) and reads the
relay process's CPU time and RSS from /proc. All clients share one asyncio loop in this
process: when they cannot keep up, "frames per stream per second reached" falls below 50
and the latency counts their queueing too.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from _common import median, parser, percentile, print_machine, save_json, table, verdict
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from websockets.asyncio.client import connect

from backend.core.remote.channel import b64url, unb64url
from backend.core.remote.keys import RELAY_CHALLENGE_CONTEXT
from backend.core.settings import Settings, prepare_data_dir
from backend.launcher.runtime import Runtime
from tests.fake_ollama import FakeOllama
from tests.relay_process import RelayProcess
from tests.remote_phone import Phone

TOKEN_INTERVAL_S = 0.02  # 50 tok/s
LATENCY_TARGET_MS = 20.0


def wait_online(runtime: Runtime) -> None:
    deadline = time.monotonic() + 30
    while runtime.remote.status()["state"] != "online":
        if time.monotonic() > deadline:
            raise SystemExit("the app never reached the relay")
        time.sleep(0.02)


def timed_sockets(runtime: Runtime, sent: dict[str, float]) -> None:
    """Stamp every socket frame as it enters the channel (keyed by its text)."""
    dispatcher = runtime.remote.dispatcher
    open_socket = dispatcher.open_socket

    def stamping(send):
        def stamped(text: str) -> bool:
            sent[text] = time.perf_counter()
            return send(text)

        return open_socket(stamped)

    dispatcher.open_socket = stamping


def pair(runtime: Runtime, name: str) -> Phone:
    """Scan (open the link), pair, approve at once on the desktop, open the socket."""
    offer = runtime.remote.create_pairing()
    phone = Phone(offer["pair_url"]).connect()
    phone.pair(name)
    pending = [d for d in runtime.remote.devices() if d["state"] == "pending"]
    runtime.remote.approve(pending[0]["id"])
    assert phone.recv() == {"type": "pair.approved"}
    phone.ws_open()
    return phone


def first_token(phone: Phone, content: str) -> None:
    phone.ws_send(
        {"type": "chat.send", "request_id": content, "conversation_id": None, "content": content}
    )
    while (
        phone.ws_recv(skip=("status", "conversation.created", "conversation.updated"))["type"]
        != "chunk"
    ):
        pass


def until_end(phone: Phone, received: dict[str, float]) -> None:
    while True:
        frame = phone.recv(30)
        if frame["type"] != "ws":
            continue
        received[frame["text"]] = time.perf_counter()
        if json.loads(frame["text"])["type"] in ("complete", "cancelled", "error"):
            return


def app_figures(tokens: int, repeats: int) -> dict[str, list[float]]:
    fake = FakeOllama().start()
    relay = RelayProcess(Path(tempfile.mkdtemp())).start()
    data_dir = prepare_data_dir(Path(tempfile.mkdtemp()) / "data")
    runtime = Runtime(
        Settings(mode="headless", ollama_url=fake.url, data_dir=data_dir, relay_url=relay.url)
    ).start()
    sent: dict[str, float] = {}
    added, qr = [], []
    try:
        wait_online(runtime)
        timed_sockets(runtime, sent)
        for n in range(repeats):
            fake.token_count, fake.token_delay = 1, 0.0
            start = time.perf_counter()
            phone = pair(runtime, f"bench {n}")
            first_token(phone, f"warm-up {n}")
            qr.append(time.perf_counter() - start)
            until_end(phone, {})
            fake.token_count, fake.token_delay = tokens, TOKEN_INTERVAL_S
            received: dict[str, float] = {}
            phone.ws_send(
                {
                    "type": "chat.send",
                    "request_id": f"r{n}",
                    "conversation_id": None,
                    "content": f"stream {n}",
                }
            )
            until_end(phone, received)
            added += [(received[t] - sent[t]) * 1000 for t in received if t in sent]
    finally:
        runtime.stop()
        relay.stop()
        fake.stop()
    return {"added_ms": added, "qr_to_first_token_s": qr}


# The relay alone, many streams.


def cpu_and_rss(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(
        line
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS")
    )
    return cpu_s, int(rss.split()[1]) * 1024


async def one_stream(base: str, seconds: float, latencies: list[float], ready) -> None:
    key = Ed25519PrivateKey.generate()
    desktop_id = b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    async with connect(f"{base}/v1/desktop") as desktop:
        nonce = unb64url(json.loads(await desktop.recv())["nonce"])
        signature = b64url(key.sign(RELAY_CHALLENGE_CONTEXT + nonce))
        await desktop.send(
            json.dumps({"type": "auth", "desktop_id": desktop_id, "signature": signature})
        )
        await desktop.recv()
        async with connect(f"{base}/v1/device/{desktop_id}") as device:
            await device.recv()
            conn = json.loads(await desktop.recv())["conn"]
            await ready()
            padding = "x" * 180
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                data = f"{time.perf_counter():.6f}:{padding}"
                await desktop.send(json.dumps({"type": "data", "conn": conn, "data": data}))
                frame = json.loads(await device.recv())
                latencies.append((time.perf_counter() - float(frame["data"].split(":")[0])) * 1000)
                await asyncio.sleep(TOKEN_INTERVAL_S)


async def relay_streams(streams: int, seconds: float) -> dict[str, float]:
    relay = RelayProcess(Path(tempfile.mkdtemp())).start()
    base = relay.ws_url
    latencies: list[float] = []
    connected = 0
    all_ready = asyncio.Event()
    baseline = cpu_and_rss(relay.proc.pid)

    async def ready() -> None:
        nonlocal connected
        connected += 1
        if connected == streams:
            all_ready.set()
        await all_ready.wait()

    try:
        tasks = [
            asyncio.create_task(one_stream(base, seconds, latencies, ready)) for _ in range(streams)
        ]
        await all_ready.wait()
        loaded = cpu_and_rss(relay.proc.pid)
        started = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        done = cpu_and_rss(relay.proc.pid)
    finally:
        relay.stop()
    cpu_share = (done[0] - loaded[0]) / elapsed
    return {
        "streams": streams,
        "relay_cpu_share": cpu_share,
        "cpu_ms_per_stream_second": cpu_share * 1000 / streams,
        "rss_kib_per_stream": (loaded[1] - baseline[1]) / 1024 / streams,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "frames_per_stream_second": len(latencies) / streams / elapsed,
    }


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    print_machine()
    tokens, repeats = (150, 2) if args.quick else (500, 3)
    streams, seconds = (50, 5.0) if args.quick else (200, 10.0)
    app = app_figures(tokens, repeats)
    many = asyncio.run(relay_streams(streams, seconds))
    p99 = percentile(app["added_ms"], 99)
    table(
        f"Through the relay, whole app, {tokens} tokens at 50 tok/s × {repeats}",
        ["figure", "value", "target", "verdict"],
        [
            ["added latency per frame p50 (ms)", percentile(app["added_ms"], 50), "", ""],
            [
                "added latency per frame p99 (ms)",
                p99,
                f"≤ {LATENCY_TARGET_MS}",
                verdict(p99, LATENCY_TARGET_MS),
            ],
            ["QR scan to first token, median (s)", median(app["qr_to_first_token_s"]), "", ""],
        ],
    )
    table(
        f"One relay process, {many['streams']} streams at 50 frames/s for {seconds:.0f} s",
        ["figure", "value"],
        [
            ["relay CPU (share of one core)", many["relay_cpu_share"]],
            ["relay CPU per stream (ms per second)", many["cpu_ms_per_stream_second"]],
            ["relay RSS per stream (KiB)", many["rss_kib_per_stream"]],
            ["frames per stream per second reached", many["frames_per_stream_second"]],
            ["relay latency p50 (ms)", many["p50_ms"]],
            ["relay latency p99 (ms)", many["p99_ms"]],
        ],
    )
    save_json(args.json, {"app": app, "relay": many})


if __name__ == "__main__":
    main()
