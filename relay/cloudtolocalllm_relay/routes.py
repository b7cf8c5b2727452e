"""The relay's only state: which desktop is online, and which device connections wait on it.

Frames are routed as they come and never kept. The desktop speaks JSON control frames
(`open`, `data`, `close`, each naming a device connection); a device sends and receives
`data` frames and hears whether its desktop is `online` or `offline`. `data` is opaque text
(the end-to-end encrypted channel, base64url): the relay never parses it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cloudtolocalllm_relay.auth import b64url, is_desktop_id, new_nonce, verify_challenge
from cloudtolocalllm_relay.cluster import Cluster, node_of
from cloudtolocalllm_relay.limits import Limits, TokenBucket
from cloudtolocalllm_relay.logs import EventLog, short_id
from cloudtolocalllm_relay.metrics import Metrics

DESKTOP_PATH = "/v1/desktop"
DEVICE_PREFIX = "/v1/device/"
# Close codes (4000-4999 are the application's own).
CLOSE_AUTH_FAILED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_REPLACED = 4409
CLOSE_TOO_MANY_DEVICES = 4429
CLOSE_RATE_LIMITED = 4408
CLOSE_BAD_FRAME = 4400
CLOSE_ENDED_BY_DESKTOP = 4000


@dataclass(eq=False)
class Device:
    ws: ServerConnection
    conn: str
    desktop_id: str
    desktop_node: str | None = None  # the node holding its desktop, when another one does


@dataclass
class Routes:
    desktops: dict[str, ServerConnection] = field(default_factory=dict)
    devices: dict[str, dict[str, Device]] = field(default_factory=dict)
    conns: dict[str, Device] = field(default_factory=dict)

    def device_count(self) -> int:
        return sum(len(conns) for conns in self.devices.values())


class Relay:
    def __init__(self, limits: Limits, log: EventLog, cluster: Cluster | None = None) -> None:
        self.limits, self.log, self.cluster = limits, log, cluster
        self.routes = Routes()
        self.metrics = Metrics(
            {
                "relay_desktops_online": lambda: len(self.routes.desktops),
                "relay_devices_connected": self.routes.device_count,
            }
        )

    async def handle(self, ws: ServerConnection) -> None:
        path = ws.request.path.split("?", 1)[0]
        if path == DESKTOP_PATH:
            await self._serve_desktop(ws)
        elif path.startswith(DEVICE_PREFIX) and is_desktop_id(path[len(DEVICE_PREFIX) :]):
            await self._serve_device(ws, path[len(DEVICE_PREFIX) :])
        else:
            await ws.close(CLOSE_NOT_FOUND, "no such route")

    # The desktop side.

    async def _serve_desktop(self, ws: ServerConnection) -> None:
        desktop_id = await self._authenticate(ws)
        if desktop_id is None:
            return
        old = self.routes.desktops.get(desktop_id)
        self.routes.desktops[desktop_id] = ws
        if old is not None:
            await old.close(CLOSE_REPLACED, "the desktop connected again")
        if self.cluster is not None:
            await self.cluster.desktop_online(desktop_id)
        self.log("desktop_online", desktop=short_id(desktop_id), replaced=old is not None)
        await _send(ws, {"type": "welcome"})
        for device in list(self.routes.devices.get(desktop_id, {}).values()):
            await _send(ws, {"type": "open", "conn": device.conn})
            await _send(device.ws, {"type": "desktop", "state": "online"})
        try:
            await self._desktop_frames(ws, desktop_id)
        finally:
            if self.routes.desktops.get(desktop_id) is ws:
                del self.routes.desktops[desktop_id]
                self.log("desktop_offline", desktop=short_id(desktop_id))
                if self.cluster is not None:
                    await self.cluster.desktop_offline(desktop_id)
                for device in list(self.routes.devices.get(desktop_id, {}).values()):
                    await _send(device.ws, {"type": "desktop", "state": "offline"})

    async def _authenticate(self, ws: ServerConnection) -> str | None:
        nonce = new_nonce()
        await _send(ws, {"type": "challenge", "nonce": b64url(nonce)})
        try:
            answer = _parse(await asyncio.wait_for(ws.recv(), self.limits.auth_timeout_s))
        except (TimeoutError, ConnectionClosed, ValueError):
            answer = None
        desktop_id = answer.get("desktop_id") if answer else None
        if (
            answer
            and answer.get("type") == "auth"
            and verify_challenge(desktop_id, nonce, answer.get("signature"))
        ):
            return desktop_id
        self.metrics.count("relay_auth_failures_total")
        self.log("desktop_auth_failed")
        await ws.close(CLOSE_AUTH_FAILED, "authentication failed")
        return None

    async def _desktop_frames(self, ws: ServerConnection, desktop_id: str) -> None:
        bucket = TokenBucket(self.limits.frame_rate, self.limits.frame_burst)
        async for raw in ws:
            if not await self._within_rate(ws, bucket, "desktop"):
                return
            frame = _parse_or_none(raw)
            conn = frame.get("conn") if frame else None
            device = self.routes.devices.get(desktop_id, {}).get(conn) if conn else None
            if frame is None or not isinstance(conn, str):
                await ws.close(CLOSE_BAD_FRAME, "malformed frame")
                return
            if frame.get("type") == "data" and isinstance(frame.get("data"), str):
                self._count_frame("to_device", frame["data"])
                await self._to_device(device, conn, {"type": "data", "data": frame["data"]})
            elif frame.get("type") == "close":
                await self._to_device(device, conn, {"type": "close"})

    async def _to_device(self, device: Device | None, conn: str, frame: dict[str, Any]) -> None:
        """To a device connection here, or on its node; none: it left meanwhile."""
        if device is None:
            if self.cluster is not None and node_of(conn) != self.cluster.node:
                await self.cluster.to_device(conn, frame)
        elif frame["type"] == "close":
            await device.ws.close(CLOSE_ENDED_BY_DESKTOP, "closed by the desktop")
        else:
            await _send(device.ws, frame)

    # The device side.

    async def _serve_device(self, ws: ServerConnection, desktop_id: str) -> None:
        conns = self.routes.devices.setdefault(desktop_id, {})
        if len(conns) >= self.limits.max_devices_per_desktop:
            self.metrics.count("relay_closed_by_limit_total", "devices")
            self.log("device_refused", desktop=short_id(desktop_id), reason="too_many_devices")
            await ws.close(CLOSE_TOO_MANY_DEVICES, "too many devices for this desktop")
            return
        conn = self.cluster.new_conn_id() if self.cluster else secrets.token_hex(8)
        device = Device(ws, conn, desktop_id)
        conns[device.conn] = device
        self.routes.conns[device.conn] = device
        self.log("device_connected", desktop=short_id(desktop_id), conn=device.conn)
        try:
            await self._announce_device(device)
            await self._device_frames(device)
        finally:
            conns.pop(device.conn, None)
            self.routes.conns.pop(device.conn, None)
            if not conns:
                self.routes.devices.pop(desktop_id, None)
            await self._to_desktop(device, {"type": "close", "conn": device.conn})
            self.log("device_disconnected", desktop=short_id(desktop_id), conn=device.conn)

    async def _announce_device(self, device: Device) -> None:
        online = device.desktop_id in self.routes.desktops
        if not online and self.cluster is not None:
            device.desktop_node = await self.cluster.desktop_node(device.desktop_id)
            online = device.desktop_node is not None
        await _send(device.ws, {"type": "desktop", "state": "online" if online else "offline"})
        await self._to_desktop(device, {"type": "open", "conn": device.conn})

    async def _to_desktop(self, device: Device, frame: dict[str, Any]) -> bool:
        """To the device's desktop, here or on its node; False when it is offline."""
        desktop = self.routes.desktops.get(device.desktop_id)
        if desktop is not None:
            await _send(desktop, frame)
        elif device.desktop_node is not None and self.cluster is not None:
            await self.cluster.to_desktop(device.desktop_node, device.desktop_id, frame)
        else:
            return False
        return True

    async def _device_frames(self, device: Device) -> None:
        bucket = TokenBucket(self.limits.frame_rate, self.limits.frame_burst)
        async for raw in device.ws:
            if not await self._within_rate(device.ws, bucket, "device"):
                return
            frame = _parse_or_none(raw)
            if (
                frame is None
                or frame.get("type") != "data"
                or not isinstance(frame.get("data"), str)
            ):
                await device.ws.close(CLOSE_BAD_FRAME, "malformed frame")
                return
            data = {"type": "data", "conn": device.conn, "data": frame["data"]}
            if await self._to_desktop(device, data):  # else it was told the desktop is offline
                self._count_frame("to_desktop", frame["data"])

    async def _within_rate(self, ws: ServerConnection, bucket: TokenBucket, side: str) -> bool:
        if bucket.take():
            return True
        self.metrics.count("relay_closed_by_limit_total", "rate")
        self.log("closed_by_limit", side=side, reason="rate")
        await ws.close(CLOSE_RATE_LIMITED, "too many frames")
        return False

    # Messages from other nodes (see cluster.py).

    async def from_cluster(self, message: dict[str, Any]) -> None:
        frame = message.get("frame")
        if "conn" in message:
            device = self.routes.conns.get(message["conn"])
            if device is not None:
                await self._to_device(device, device.conn, frame)
        elif "frame" in message:
            desktop = self.routes.desktops.get(message["desktop"])
            if desktop is not None:
                await _send(desktop, frame)
        elif message.get("node") != self.cluster.node:
            await self._desktop_moved(message["desktop"], message.get("node"))

    async def _desktop_moved(self, desktop_id: str, node: str | None) -> None:
        """A desktop came online on another node (None: went offline there)."""
        here = self.routes.desktops.pop(desktop_id, None) if node else None
        if here is not None:
            await here.close(CLOSE_REPLACED, "the desktop connected again")
        for device in list(self.routes.devices.get(desktop_id, {}).values()):
            device.desktop_node = node
            await _send(device.ws, {"type": "desktop", "state": "online" if node else "offline"})
            await self._to_desktop(device, {"type": "open", "conn": device.conn})

    def _count_frame(self, direction: str, data: str) -> None:
        self.metrics.count("relay_frames_total", direction)
        self.metrics.count("relay_bytes_total", direction, len(data))


async def _send(ws: ServerConnection, frame: dict[str, Any]) -> None:
    try:
        await ws.send(json.dumps(frame, separators=(",", ":")))
    except ConnectionClosed:
        pass  # its own handler notices and cleans up


def _parse(raw: str | bytes) -> dict[str, Any]:
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        raise ValueError("a frame must be a JSON object")
    return frame


def _parse_or_none(raw: str | bytes) -> dict[str, Any] | None:
    try:
        return _parse(raw)
    except (ValueError, RecursionError):
        return None
