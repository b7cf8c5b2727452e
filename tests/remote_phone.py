"""A paired device in Python: what the phone's page does, for tests that drive the channel."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from backend.core.remote.channel import FrameCipher, unb64url
from backend.core.remote.handshake import PhoneHandshake


def parse_pair_url(pair_url: str) -> dict[str, str]:
    parts = urlsplit(pair_url)
    fields = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    fields["relay"] = f"{parts.scheme}://{parts.netloc}"
    return fields


class Phone:
    def __init__(self, pair_url: str, key: X25519PrivateKey | None = None) -> None:
        self.offer = parse_pair_url(pair_url)
        self.key = key or X25519PrivateKey.generate()
        self.cipher: FrameCipher | None = None
        self.last_index = -1
        self.ws = None
        self._early_ws: list[dict[str, Any]] = []  # socket frames that beat `ws.opened`

    def connect(self, relay_url: str | None = None) -> Phone:
        """Open a device connection and wait for the desktop to be online."""
        base = (relay_url or self.offer["relay"]).replace("http://", "ws://").rstrip("/")
        self.ws = connect(f"{base}/v1/device/{self.offer['d']}").__enter__()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.relay_frame() == {"type": "desktop", "state": "online"}:
                return self
        raise AssertionError("the desktop never came online")

    def relay_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout))

    def send_data(self, data: str) -> None:
        self.ws.send(json.dumps({"type": "data", "data": data}))

    def recv_data(self, timeout: float = 10.0) -> str:
        while True:
            frame = self.relay_frame(timeout)
            if frame["type"] == "data":
                return frame["data"]

    def handshake(
        self, *, pairing: bool, secret: bytes | None = None, read_session: bool = True
    ) -> dict[str, Any] | None:
        """Run the handshake; the desktop's first sealed frame (`session`) is returned."""
        pinned = unb64url(self.offer["k"])
        if pairing:
            secret = secret if secret is not None else unb64url(self.offer["s"])
            shake = PhoneHandshake(pinned, self.key, self.offer["p"], secret)
        else:
            shake = PhoneHandshake(pinned, self.key)
        self.send_data(json.dumps(shake.hello()))
        self.cipher, self.short_code = shake.finish(json.loads(self.recv_data()))
        return self.recv() if read_session else None

    def send(self, frame: dict[str, Any]) -> None:
        self.send_data(self.cipher.seal(frame))

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        return self.cipher.open(self.recv_data(timeout))

    def pair(self, name: str) -> dict[str, Any]:
        assert self.handshake(pairing=True) == {"type": "session", "state": "pairing"}
        self.send({"type": "pair.request", "name": name})
        return self.recv()

    def http(self, method: str, path: str, body: Any = None, request_id: int = 1) -> dict:
        self.send({"type": "http", "id": request_id, "method": method, "path": path, "body": body})
        while True:
            frame = self.recv()
            if frame["type"] == "http" and frame["id"] == request_id:
                return frame

    def ws_open(self, resume_after: int | None = None) -> bool:
        self.send({"type": "ws.open", "resume_after": resume_after})
        while True:
            frame = self.recv()
            if frame["type"] == "ws.opened":
                return frame["resumed"]
            if frame["type"] == "ws":
                self._early_ws.append(frame)

    def ws_send(self, frame: dict[str, Any]) -> None:
        self.send({"type": "ws", "text": json.dumps(frame)})

    def ws_recv(self, *, skip: tuple[str, ...] = ("status",), timeout: float = 10.0) -> dict:
        while True:
            frame = self._early_ws.pop(0) if self._early_ws else self.recv(timeout)
            if frame["type"] != "ws":
                continue
            assert frame["index"] == self.last_index + 1, "a frame lost or repeated"
            self.last_index = frame["index"]
            inner = json.loads(frame["text"])
            if inner["type"] not in skip:
                return inner

    def closed_code(self, timeout: float = 10.0) -> int:
        """Wait for the relay to close this device's connection; its close code."""
        try:
            while True:
                self.ws.recv(timeout)
        except ConnectionClosed:
            return self.ws.protocol.close_rcvd.code
