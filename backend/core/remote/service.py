"""Remote access as the app sees it: the relay setting and link, pairing, devices, sessions.

The cryptography, WebSocket and QR code modules are imported where they are first needed:
an app that never uses remote access does not pay for them at start-up.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from backend.core.errors import AppError, BadRequest
from backend.core.remote.config import normalise_relay_url
from backend.core.remote.devices import Device, DeviceBook, Pairings
from backend.core.remote.files import read_json, remote_dir, write_private_json
from backend.core.remote.tunnel import Dispatcher, TunnelSocket
from backend.core.topics import REMOTE_CHANGED

if TYPE_CHECKING:
    from backend.core.events import EventBus
    from backend.core.remote.keys import DesktopKeys
    from backend.core.remote.link import RelayLink
    from backend.core.remote.session import RemoteSession

log = logging.getLogger("cloudtolocalllm.remote")


class RemoteAccess:
    def __init__(
        self,
        data_dir: Path,
        dispatcher: Dispatcher,
        *,
        relay_url: str | None = None,
        bus: EventBus | None = None,
    ):
        folder = remote_dir(data_dir)
        self._keys_path = folder / "keys.json"
        self._keys: DesktopKeys | None = None
        self.book = DeviceBook(folder / "devices.json")
        self.pairings = Pairings()
        self.dispatcher = dispatcher
        self._config_path = folder / "config.json"
        self._launch_url = normalise_relay_url(relay_url)
        self._saved_url = read_json(self._config_path, {}).get("relay_url")
        self._lock = threading.RLock()
        self._state = "off"
        self._bus = bus  # told each change of state, for the status pill and the tray
        self._link: RelayLink | None = None
        self._sessions: dict[str, RemoteSession] = {}
        self._tunnels: dict[str, TunnelSocket] = {}
        self._rest_pool = ThreadPoolExecutor(4, thread_name_prefix="remote-rest")

    @property
    def keys(self) -> DesktopKeys:
        with self._lock:
            if self._keys is None:
                from backend.core.remote.keys import load_or_create_keys

                self._keys = load_or_create_keys(self._keys_path)
            return self._keys

    # Setting and link.

    @property
    def relay_url(self) -> str | None:
        return self._launch_url or self._saved_url

    def status(self) -> dict[str, Any]:
        return {
            "relay_url": self.relay_url,
            "state": self._state,
            "desktop_id": self.keys.desktop_id,
        }

    def start(self) -> None:
        with self._lock:
            if self.relay_url and self._link is None:
                from backend.core.remote.link import RelayLink

                self._link = RelayLink(self.relay_url, self.keys, self).start()

    def stop(self) -> None:
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.stop()
        self._end_all_sessions()
        for tunnel in self._take_tunnels():
            tunnel.close()
        self._set_state("off")

    def close(self) -> None:
        self.stop()
        self._rest_pool.shutdown(wait=False, cancel_futures=True)

    def set_relay_url(self, value: Any) -> dict[str, Any]:
        url = normalise_relay_url(value)
        write_private_json(self._config_path, {"relay_url": url})
        self.stop()
        self._launch_url, self._saved_url = None, url  # chosen now: it wins over the launch's
        self.start()
        return self.status()

    # Pairing and devices.

    def create_pairing(self) -> dict[str, Any]:
        if not self.relay_url:
            raise BadRequest("Set a relay URL first", code="remote_off")
        import segno

        from backend.core.remote.channel import b64url

        offer = self.pairings.create()
        fragment = urlencode(
            {
                "d": self.keys.desktop_id,
                "k": self.keys.static_public,
                "p": offer.id,
                "s": b64url(offer.secret),
            }
        )
        expires = datetime.fromtimestamp(offer.expires_at, UTC).isoformat(timespec="seconds")
        pair_url = f"{self.relay_url}/#{fragment}"
        return {
            "pair_url": pair_url,
            "expires_at": expires.replace("+00:00", "Z"),
            # For the desktop's screen only: an image the phone's camera reads.
            "qr_svg": segno.make(pair_url, error="m").svg_data_uri(scale=5, border=2),
        }

    def pairing_secret(self, pairing_id: str, phone_key: bytes) -> bytes | None:
        return self.pairings.secret(pairing_id)

    def complete_pairing(self, session: RemoteSession, name: str) -> Device:
        from backend.core.remote.channel import ChannelError

        if not self.pairings.consume(session.pairing_id or ""):
            raise ChannelError("the pairing was used or expired")
        return self.book.add_pending(name, session.phone_key, session.short_code)

    def devices(self) -> list[dict[str, Any]]:
        return [device.to_api() for device in self.book.list()]

    def approve(self, device_id: str) -> dict[str, Any]:
        device = self.book.approve(device_id)
        for session in self._sessions_of(device_id):
            session.send({"type": "pair.approved"})
        return device.to_api()

    def revoke(self, device_id: str) -> None:
        """Forget the device and end its sessions and socket at once."""
        self.book.remove(device_id)
        for session in self._sessions_of(device_id):
            self._end_session(session.conn)
        with self._lock:
            tunnel = self._tunnels.pop(device_id, None)
        if tunnel is not None:
            tunnel.close()

    # The link's listener.

    def link_state(self, state: str) -> None:
        self._set_state(state)
        if state != "online":
            self._end_all_sessions(tell_relay=False)

    def _set_state(self, state: str) -> None:
        changed, self._state = self._state != state, state
        if changed and self._bus is not None:
            self._bus.publish(REMOTE_CHANGED, self.status())

    def device_opened(self, conn: str) -> None:
        from backend.core.remote.session import RemoteSession

        with self._lock:
            self._sessions[conn] = RemoteSession(conn, self)

    def device_data(self, conn: str, data: str) -> None:
        from backend.core.remote.channel import ChannelError

        with self._lock:
            session = self._sessions.get(conn)
        if session is None:
            return
        try:
            session.receive(data)
        except (ChannelError, AppError) as exc:  # AppError: e.g. its device removed meanwhile
            log.info("remote session ended: %s", exc)
            self._end_session(conn)

    def device_closed(self, conn: str) -> None:
        self._end_session(conn, tell_relay=False)

    def link_send(self, conn: str, data: str) -> bool:
        link = self._link
        return link is not None and link.send(conn, data)

    # What sessions do.

    def run_rest(self, session: RemoteSession, request_id: Any, method: str, path: str, body: Any):
        def call() -> None:
            try:
                status, answer = self.dispatcher.rest(method, path, body)
                session.send({"type": "http", "id": request_id, "status": status, "body": answer})
            finally:
                with self._lock:
                    session.rest_in_flight -= 1

        with self._lock:
            session.rest_in_flight += 1
        self._rest_pool.submit(call)

    def attach_socket(self, session: RemoteSession, resume_after: int | None) -> bool:
        """Attach the device's socket to this session; True if it resumed where it left."""
        device_id = session.device.id
        with self._lock:
            tunnel = self._tunnels.get(device_id)
            if tunnel is not None and tunnel.attach(session.send, resume_after):
                return True
            if tunnel is not None:
                tunnel.close()
            tunnel = self._tunnels[device_id] = TunnelSocket(self.dispatcher)
        tunnel.attach(session.send, None)
        return False

    def deliver_ws(self, session: RemoteSession, text: str) -> None:
        from backend.core.remote.channel import ChannelError

        with self._lock:
            tunnel = self._tunnels.get(session.device.id)
        if tunnel is None:
            raise ChannelError("a socket frame before ws.open")
        tunnel.handle.deliver(text)

    # Ending sessions.

    def _sessions_of(self, device_id: str) -> list[RemoteSession]:
        with self._lock:
            return [s for s in self._sessions.values() if s.device and s.device.id == device_id]

    def _end_session(self, conn: str, *, tell_relay: bool = True) -> None:
        with self._lock:
            session = self._sessions.pop(conn, None)
        if session is None:
            return
        session.closed = True
        if session.device is not None:
            with self._lock:
                tunnel = self._tunnels.get(session.device.id)
            if tunnel is not None:
                tunnel.detach(session.send)
        link = self._link
        if tell_relay and link is not None:
            link.close_device(conn)

    def _end_all_sessions(self, *, tell_relay: bool = True) -> None:
        with self._lock:
            conns = list(self._sessions)
        for conn in conns:
            self._end_session(conn, tell_relay=tell_relay)

    def _take_tunnels(self) -> list[TunnelSocket]:
        with self._lock:
            tunnels = list(self._tunnels.values())
            self._tunnels.clear()
        return tunnels
