"""One device connection through the relay: the handshake, then the device's frames.

Inside the channel a device may: ask to pair (on a pairing session), call the REST API
(`http`), and open and use the app's WebSocket (`ws.open`, `ws`). Anything else, anything
before approval other than pairing, and any frame that fails to open ends the session at
once: a relay that replays, reorders, alters or injects frames makes the desktop do nothing.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from backend.core.remote.channel import ChannelError, FrameCipher, b64url
from backend.core.remote.devices import Device
from backend.core.remote.handshake import answer_hello

if TYPE_CHECKING:
    from backend.core.remote.service import RemoteAccess

REST_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# REST calls a session may have waiting or running at once; more is a flood.
MAX_REST_IN_FLIGHT = 16


class RemoteSession:
    def __init__(self, conn: str, access: RemoteAccess) -> None:
        self.conn, self.access = conn, access
        self.cipher: FrameCipher | None = None
        self.device: Device | None = None
        self.pairing_id: str | None = None
        self.short_code = ""
        self.phone_key = ""
        self.closed = False
        self.rest_in_flight = 0
        self._send_lock = threading.Lock()

    def send(self, frame: dict[str, Any]) -> bool:
        with self._send_lock:
            if self.closed or self.cipher is None:
                return False
            return self.access.link_send(self.conn, self.cipher.seal(frame))

    def receive(self, data: str) -> None:
        """Raises ChannelError for anything the session must end on."""
        if self.cipher is None:
            self._handshake(data)
            return
        with self._send_lock:  # opening advances the receive counter: one at a time
            frame = self.cipher.open(data)
        self._dispatch(frame)

    def _handshake(self, data: str) -> None:
        try:
            hello = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ChannelError("the hello is not JSON") from exc
        session, welcome = answer_hello(self.access.keys.static, hello, self.access.pairing_secret)
        phone_key = b64url(session.phone_key)
        self.device = self.access.book.by_key(phone_key)
        if self.device is None and session.pairing_id is None:
            raise ChannelError("an unknown device")
        self.pairing_id, self.short_code = session.pairing_id, session.short_code
        self.phone_key = phone_key
        self.access.link_send(self.conn, json.dumps(welcome))
        self.cipher = session.cipher
        self.send({"type": "session", "state": self._state()})

    def _state(self) -> str:
        if self.device is None:
            return "pairing"
        return self.access.book.get(self.device.id).state

    def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "pair.request" and self.device is None and self.pairing_id:
            self._pair(frame)
            return
        if self.device is None or self._state() != "approved":
            raise ChannelError(f"{kind!r} before approval")
        self.access.book.touch(self.device.id)
        if kind == "http":
            self._rest(frame)
        elif kind == "ws.open":
            resume_after = frame.get("resume_after")
            if resume_after is not None and not _is_index(resume_after):
                raise ChannelError("a bad resume point")
            resumed = self.access.attach_socket(self, resume_after)
            self.send({"type": "ws.opened", "resumed": resumed})
        elif kind == "ws" and isinstance(frame.get("text"), str):
            self.access.deliver_ws(self, frame["text"])
        else:
            raise ChannelError(f"an unexpected frame {kind!r}")

    def _pair(self, frame: dict[str, Any]) -> None:
        name = frame.get("name")
        if not isinstance(name, str):
            raise ChannelError("a pairing request needs a name")
        self.device = self.access.complete_pairing(self, name)
        self.send({"type": "pair.pending", "code": self.short_code})

    def _rest(self, frame: dict[str, Any]) -> None:
        request_id, method, path = frame.get("id"), frame.get("method"), frame.get("path")
        if not isinstance(request_id, (int, str)) or method not in REST_METHODS:
            raise ChannelError("a malformed REST call")
        if not isinstance(path, str) or not path.startswith("/api/"):
            raise ChannelError("a REST call outside the API")
        # Which API routes a device may not call is decided by the dispatcher, on the route
        # the path reaches (remote access itself and the desktop's window).
        if self.rest_in_flight >= MAX_REST_IN_FLIGHT:
            raise ChannelError("too many REST calls at once")
        self.access.run_rest(self, request_id, method, path, frame.get("body"))


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= -1
