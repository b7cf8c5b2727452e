"""`cloudtolocalllm-relay [--host H] [--port P]`: serve until SIGTERM or SIGINT, then exit 0."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from websockets.asyncio.server import serve

from cloudtolocalllm_relay import __version__
from cloudtolocalllm_relay.cluster import Cluster
from cloudtolocalllm_relay.http import HttpRoutes
from cloudtolocalllm_relay.limits import Limits
from cloudtolocalllm_relay.logs import EventLog
from cloudtolocalllm_relay.routes import Relay


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cloudtolocalllm-relay",
        description="Relay for CloudToLocalLLM's end-to-end encrypted remote access.",
    )
    defaults = Limits()
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    parser.add_argument("--max-frame-bytes", type=int, default=defaults.max_frame_bytes)
    parser.add_argument("--frame-rate", type=float, default=defaults.frame_rate)
    parser.add_argument("--frame-burst", type=int, default=defaults.frame_burst)
    parser.add_argument("--max-devices", type=int, default=defaults.max_devices_per_desktop)
    parser.add_argument(
        "--redis", help="share routes with other relay processes through this Redis URL"
    )
    parser.add_argument("--version", action="version", version=__version__)
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"port out of range: {args.port}")
    if args.max_frame_bytes < 1024 or args.frame_rate <= 0 or args.frame_burst < 1:
        parser.error("limits must be positive (and frames at least 1024 bytes)")
    return args


async def run(args: argparse.Namespace) -> None:
    limits = Limits(
        max_frame_bytes=args.max_frame_bytes,
        frame_rate=args.frame_rate,
        frame_burst=args.frame_burst,
        max_devices_per_desktop=args.max_devices,
    )
    log = EventLog()
    cluster = Cluster(args.redis) if args.redis else None
    relay = Relay(limits, log, cluster)
    if cluster is not None:
        await cluster.start(relay.from_cluster)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, _settle, stop)
    async with serve(
        relay.handle,
        args.host,
        args.port,
        process_request=HttpRoutes(relay.metrics),
        max_size=limits.max_frame_bytes,
        server_header=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        host = f"[{args.host}]" if ":" in args.host else args.host
        ready = {"event": "ready", "url": f"http://{host}:{port}/", "port": port}
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        log("relay_ready", port=port)
        await stop
        log("relay_stopping")
    if cluster is not None:
        await cluster.close()


def _settle(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    asyncio.run(run(args))
    return 0
