"""Both ends of the channel's handshake (see channel.py for its shape)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.core.remote.channel import (
    PROTOCOL,
    ChannelError,
    FrameCipher,
    b64url,
    desktop_cipher,
    dh,
    hello_key,
    load_public,
    nonce,
    phone_cipher,
    public_bytes,
    session_keys,
    unb64url,
)

# Given a pairing id and the phone's static key, the pairing's secret, or None if unknown,
# used or expired. Given no pairing id, None: the phone must then be a paired device.
PairingSecret = Callable[[str, bytes], bytes | None]


@dataclass
class DesktopSession:
    cipher: FrameCipher
    phone_key: bytes
    pairing_id: str | None
    short_code: str


def answer_hello(
    desktop_static: X25519PrivateKey, hello: object, pairing_secret: PairingSecret
) -> tuple[DesktopSession, dict]:
    """The desktop's side: check a phone's hello, and the welcome that answers it."""
    if not isinstance(hello, dict) or hello.get("t") != "hello" or hello.get("v") != 1:
        raise ChannelError("not a hello")
    phone_eph_raw = unb64url(hello.get("e"))
    phone_eph = load_public(phone_eph_raw)
    sd = public_bytes(desktop_static)
    key = hello_key(dh(desktop_static, phone_eph), sd, phone_eph_raw)
    try:
        inner = json.loads(AESGCM(key).decrypt(nonce(0), unb64url(hello.get("box")), PROTOCOL))
    except (InvalidTag, ValueError, RecursionError) as exc:
        raise ChannelError("the hello failed authentication") from exc
    phone_static_raw = unb64url(inner.get("s") if isinstance(inner, dict) else None)
    phone_static = load_public(phone_static_raw)
    pairing_id = inner.get("pairing")
    psk = None
    if pairing_id is not None:
        psk = pairing_secret(pairing_id, phone_static_raw) if isinstance(pairing_id, str) else None
        if psk is None:
            raise ChannelError("no such pairing")
    ephemeral = X25519PrivateKey.generate()
    ed = public_bytes(ephemeral)
    terms = [dh(ephemeral, phone_eph), dh(desktop_static, phone_eph), dh(ephemeral, phone_static)]
    keys = session_keys(terms, [sd, phone_static_raw, phone_eph_raw, ed], psk)
    session = DesktopSession(desktop_cipher(keys), phone_static_raw, pairing_id, keys.short_code)
    return session, {"t": "welcome", "e": b64url(ed)}


@dataclass
class PhoneHandshake:
    """The phone's side, in Python: what the page does in WebCrypto (used by the tests)."""

    desktop_static: bytes
    phone_static: X25519PrivateKey
    pairing_id: str | None = None
    pairing_secret: bytes | None = None

    def hello(self) -> dict:
        self._ephemeral = X25519PrivateKey.generate()
        ep = public_bytes(self._ephemeral)
        key = hello_key(
            dh(self._ephemeral, load_public(self.desktop_static)), self.desktop_static, ep
        )
        inner = {"s": b64url(public_bytes(self.phone_static)), "pairing": self.pairing_id}
        box = AESGCM(key).encrypt(nonce(0), json.dumps(inner).encode(), PROTOCOL)
        return {"t": "hello", "v": 1, "e": b64url(ep), "box": b64url(box)}

    def finish(self, welcome: object) -> tuple[FrameCipher, str]:
        if not isinstance(welcome, dict) or welcome.get("t") != "welcome":
            raise ChannelError("not a welcome")
        ed_raw = unb64url(welcome.get("e"))
        ed = load_public(ed_raw)
        sd = load_public(self.desktop_static)
        terms = [dh(self._ephemeral, ed), dh(self._ephemeral, sd), dh(self.phone_static, ed)]
        transcript = [
            self.desktop_static,
            public_bytes(self.phone_static),
            public_bytes(self._ephemeral),
            ed_raw,
        ]
        keys = session_keys(terms, transcript, self.pairing_secret)
        return phone_cipher(keys), keys.short_code
