"""The desktop's one outbound WebSocket to its relay: authenticate, route, reconnect.

No port is opened at home. The relay speaks JSON control frames naming device connections
(`open`, `data`, `close`); what `data` carries is the end-to-end channel, opaque here too.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from backend.core.remote.channel import ChannelError, unb64url
from backend.core.remote.keys import DesktopKeys

log = logging.getLogger("cloudtolocalllm.remote")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
OPEN_TIMEOUT_S = 10.0


class LinkListener(Protocol):
    def link_state(self, state: str) -> None: ...
    def device_opened(self, conn: str) -> None: ...
    def device_data(self, conn: str, data: str) -> None: ...
    def device_closed(self, conn: str) -> None: ...


class RelayLink:
    """States: "connecting", "online", "offline" (between attempts); "off" once stopped."""

    def __init__(
        self,
        relay_url: str,
        keys: DesktopKeys,
        listener: LinkListener,
        *,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.url = relay_url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
        self.keys, self.listener = keys, listener
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._send_lock = threading.Lock()
        self._ws: ClientConnection | None = None
        self._thread = threading.Thread(target=self._run, name="relay-link", daemon=True)

    def start(self) -> RelayLink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            ws.close()
        self._thread.join(timeout=5)

    def send(self, conn: str, data: str) -> bool:
        return self._send({"type": "data", "conn": conn, "data": data})

    def close_device(self, conn: str) -> None:
        self._send({"type": "close", "conn": conn})

    def _send(self, frame: dict[str, Any]) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            with self._send_lock:
                ws.send(json.dumps(frame, separators=(",", ":")))
        except (ConnectionClosed, OSError):
            return False
        return True

    def _run(self) -> None:
        delay = BACKOFF_FIRST_S
        while not self._stop.is_set():
            self.listener.link_state("connecting")
            try:
                with connect(f"{self.url}/v1/desktop", open_timeout=OPEN_TIMEOUT_S) as ws:
                    self._authenticate(ws)
                    self._ws = ws
                    delay = BACKOFF_FIRST_S
                    self.listener.link_state("online")
                    self._route(ws)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as exc:
                log.info("relay link down: %s", type(exc).__name__)
            except (ChannelError, ValueError, KeyError, RecursionError) as exc:
                log.warning("relay spoke out of protocol: %s", type(exc).__name__)
            finally:
                self._ws = None
            if self._stop.is_set():
                break
            self.listener.link_state("offline")
            self._wait(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
        self.listener.link_state("off")

    def _authenticate(self, ws: ClientConnection) -> None:
        challenge = json.loads(ws.recv(OPEN_TIMEOUT_S))
        if not isinstance(challenge, dict) or challenge.get("type") != "challenge":
            raise ValueError("no challenge")
        signature = self.keys.sign_challenge(unb64url(challenge["nonce"]))
        ws.send(
            json.dumps({"type": "auth", "desktop_id": self.keys.desktop_id, "signature": signature})
        )
        if json.loads(ws.recv(OPEN_TIMEOUT_S)) != {"type": "welcome"}:
            raise ValueError("not welcomed")

    def _route(self, ws: ClientConnection) -> None:
        for raw in ws:
            frame = _parse(raw)
            conn = frame.get("conn") if isinstance(frame, dict) else None
            if not isinstance(conn, str):
                continue  # nothing a relay may send: ignored
            kind = frame.get("type")
            if kind == "open":
                self.listener.device_opened(conn)
            elif kind == "data" and isinstance(frame.get("data"), str):
                self.listener.device_data(conn, frame["data"])
            elif kind == "close":
                self.listener.device_closed(conn)


def _parse(raw: str | bytes) -> object:
    """A relay's frame, or None for one that is not JSON (ignored like any other junk)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None
