"""Several relay processes behind one load balancer: routes shared through Redis.

Each process (a node) keeps its own connections. Redis holds which node has each desktop
(`relay:desktop:<id>`, refreshed while it is connected) and carries messages between
nodes by pub/sub: to a node's channel for a desktop or device connection it holds, and on
one broadcast channel when a desktop comes online or goes offline. A device connection's
id starts with its node's id, so a desktop's answer finds its node without a look-up.
Redis sees routes only: the frames it carries are the same opaque, encrypted data.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as redis

DESKTOP_KEY = "relay:desktop:"
NODE_CHANNEL = "relay:node:"
STATE_CHANNEL = "relay:desktops"
# A node that dies without cleaning up stops owning its desktops after this long.
OWNER_TTL_S = 30
REFRESH_S = 10

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def node_of(conn: str) -> str:
    return conn.split(".", 1)[0]


class Cluster:
    def __init__(self, url: str) -> None:
        self.node = secrets.token_hex(4)
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._pubsub = self._redis.pubsub()
        self._owned: set[str] = set()
        self._tasks: list[asyncio.Task] = []

    def new_conn_id(self) -> str:
        return f"{self.node}.{secrets.token_hex(8)}"

    async def start(self, on_message: Handler) -> None:
        await self._pubsub.subscribe(NODE_CHANNEL + self.node, STATE_CHANNEL)
        self._tasks = [
            asyncio.create_task(self._listen(on_message)),
            asyncio.create_task(self._refresh()),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for desktop_id in list(self._owned):
            await self.desktop_offline(desktop_id)
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def _listen(self, on_message: Handler) -> None:
        async for message in self._pubsub.listen():
            if message["type"] == "message":
                await on_message(json.loads(message["data"]))

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            for desktop_id in list(self._owned):
                await self._redis.set(DESKTOP_KEY + desktop_id, self.node, ex=OWNER_TTL_S)

    # Desktops.

    async def desktop_online(self, desktop_id: str) -> None:
        self._owned.add(desktop_id)
        await self._redis.set(DESKTOP_KEY + desktop_id, self.node, ex=OWNER_TTL_S)
        await self._publish(STATE_CHANNEL, {"desktop": desktop_id, "node": self.node})

    async def desktop_offline(self, desktop_id: str) -> None:
        self._owned.discard(desktop_id)
        key = DESKTOP_KEY + desktop_id
        if await self._redis.get(key) == self.node:  # not if it moved to another node
            await self._redis.delete(key)
            await self._publish(STATE_CHANNEL, {"desktop": desktop_id, "node": None})

    async def desktop_node(self, desktop_id: str) -> str | None:
        return await self._redis.get(DESKTOP_KEY + desktop_id)

    # Frames for another node's connections.

    async def to_desktop(self, node: str, desktop_id: str, frame: dict[str, Any]) -> None:
        await self._publish(NODE_CHANNEL + node, {"desktop": desktop_id, "frame": frame})

    async def to_device(self, conn: str, frame: dict[str, Any]) -> None:
        await self._publish(NODE_CHANNEL + node_of(conn), {"conn": conn, "frame": frame})

    async def _publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(channel, json.dumps(message, separators=(",", ":")))
