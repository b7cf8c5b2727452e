"""Paired devices (kept, user-only) and one-time pairing offers (memory only, minutes long)."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.core.errors import NotFound
from backend.core.remote.files import read_json, write_private_json

PAIRING_TTL_S = 5 * 60  # the contract allows up to 10 minutes
MAX_NAME_CHARS = 80
LAST_SEEN_SAVE_S = 60


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _age_s(iso: str) -> float:
    then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (datetime.now(UTC) - then).total_seconds()


@dataclass
class Device:
    id: str
    name: str
    public_key: str  # base64url X25519: how a device is recognised at each session
    state: str  # "pending" or "approved"
    created_at: str
    last_seen: str | None = None
    short_code: str | None = None  # shown on both screens while pending

    def to_api(self) -> dict[str, Any]:
        shown = {k: v for k, v in asdict(self).items() if k != "public_key"}
        if self.state != "pending":
            shown.pop("short_code")
        return shown


class DeviceBook:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._devices = {d["id"]: Device(**{**d, "short_code": None}) for d in read_json(path, [])}

    def list(self) -> list[Device]:
        with self._lock:
            return sorted(self._devices.values(), key=lambda d: d.created_at)

    def by_key(self, public_key: str) -> Device | None:
        with self._lock:
            return next((d for d in self._devices.values() if d.public_key == public_key), None)

    def get(self, device_id: str) -> Device:
        with self._lock:
            return self._known(device_id)

    def _known(self, device_id: str) -> Device:
        """The device (the caller holds the lock), or NotFound."""
        if device_id not in self._devices:
            raise NotFound("No such device", code="not_found")
        return self._devices[device_id]

    def add_pending(self, name: str, public_key: str, short_code: str) -> Device:
        clean = " ".join(name.split())[:MAX_NAME_CHARS] or "Unnamed device"
        device = Device(
            uuid.uuid4().hex, clean, public_key, "pending", _now_iso(), None, short_code
        )
        with self._lock:
            self._devices[device.id] = device
            self._save()
        return device

    def approve(self, device_id: str) -> Device:
        with self._lock:
            device = self._known(device_id)
            device.state, device.short_code = "approved", None
            self._save()
            return device

    def remove(self, device_id: str) -> Device:
        with self._lock:
            device = self._devices.pop(self._known(device_id).id)
            self._save()
            return device

    def touch(self, device_id: str) -> None:
        """Note the device was seen now; kept on disk at most once a minute per device."""
        with self._lock:
            device = self._devices.get(device_id)
            if device is None:
                return
            now = _now_iso()
            stale = device.last_seen is None or _age_s(device.last_seen) >= LAST_SEEN_SAVE_S
            device.last_seen = now
            if stale:
                self._save()

    def _save(self) -> None:
        rows = [{**asdict(d), "short_code": None} for d in self._devices.values()]
        write_private_json(self.path, rows)


@dataclass
class Pairing:
    id: str
    secret: bytes
    expires_at: float


class Pairings:
    """Offers to pair, each usable once and only until it expires."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._offers: dict[str, Pairing] = {}

    def create(self) -> Pairing:
        offer = Pairing(secrets.token_hex(8), secrets.token_bytes(32), self.clock() + PAIRING_TTL_S)
        with self._lock:
            self._drop_expired()
            self._offers[offer.id] = offer
        return offer

    def secret(self, pairing_id: str) -> bytes | None:
        """The offer's secret while it is open (neither used nor expired)."""
        with self._lock:
            self._drop_expired()
            offer = self._offers.get(pairing_id)
            return offer.secret if offer else None

    def consume(self, pairing_id: str) -> bool:
        """Use the offer up; False if it was used or expired meanwhile."""
        with self._lock:
            self._drop_expired()
            return self._offers.pop(pairing_id, None) is not None

    def _drop_expired(self) -> None:
        now = self.clock()
        for key in [k for k, o in self._offers.items() if o.expires_at <= now]:
            del self._offers[key]
