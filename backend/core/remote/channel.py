"""The end-to-end encrypted channel between a paired device and the desktop.

Standard primitives only, from `cryptography` here and WebCrypto in the phone's page:
X25519, HKDF-SHA256, AES-256-GCM. The handshake follows Noise's IK shape: the phone knows
the desktop's static key (pinned at pairing) and sends its own static key encrypted to it.

    hello (phone -> desktop): e = Ep, box = AEAD(k_hello, {s: Sp, pairing: id|null})
        k_hello = HKDF(DH(ep, Sd), salt=PROTOCOL, info="hello" | Sd | Ep)
    welcome (desktop -> phone): e = Ed
    session keys = HKDF(DH(ee) | DH(Sd·Ep) | DH(Ed·Sp) [| pairing secret],
                        salt=SHA256(PROTOCOL | Sd | Sp | Ep | Ed))

The ephemeral-ephemeral term gives forward secrecy; the two static terms authenticate both
sides (only the holder of each static private key derives the keys). Each direction has its
own key and a counter that is the nonce: a frame replayed, reordered, dropped or altered
fails to open, and the session ends. Details and the threat model: docs/remote-access.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROTOCOL = b"cloudtolocalllm-e2e-v1"
PHONE_TO_DESKTOP = b"p2d"
DESKTOP_TO_PHONE = b"d2p"
SHORT_CODE_DIGITS = 6


class ChannelError(Exception):
    """A handshake or frame that must not be trusted: the session ends, nothing is done."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: object) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise ChannelError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ChannelError("not base64url") from exc


def public_bytes(key: X25519PrivateKey | X25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_public(raw: bytes) -> X25519PublicKey:
    if len(raw) != 32:
        raise ChannelError("an X25519 public key is 32 bytes")
    return X25519PublicKey.from_public_bytes(raw)


def dh(private: X25519PrivateKey, public: X25519PublicKey) -> bytes:
    try:
        return private.exchange(public)
    except ValueError as exc:  # a low-order point: an all-zero secret
        raise ChannelError("unusable public key") from exc


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def hello_key(shared: bytes, desktop_static: bytes, phone_ephemeral: bytes) -> bytes:
    return hkdf(shared, PROTOCOL, b"hello" + desktop_static + phone_ephemeral)


@dataclass
class SessionKeys:
    phone_to_desktop: bytes
    desktop_to_phone: bytes
    short_code: str


def session_keys(dh_terms: list[bytes], transcript: list[bytes], psk: bytes | None) -> SessionKeys:
    """Both sides' keys from the three DH results (and the pairing secret while pairing)."""
    salt = hashlib.sha256(PROTOCOL + b"".join(transcript)).digest()
    ikm = b"".join(dh_terms) + (psk or b"")
    okm = hkdf(ikm, salt, b"session", 64)
    code_bytes = hkdf(ikm, salt, b"short-code", 4)
    code = str(struct.unpack(">I", code_bytes)[0] % 10**SHORT_CODE_DIGITS).zfill(SHORT_CODE_DIGITS)
    return SessionKeys(okm[:32], okm[32:], code)


def nonce(counter: int) -> bytes:
    return b"\x00" * 4 + struct.pack(">Q", counter)


@dataclass
class FrameCipher:
    """One session's frames: sealed with the send key and counter, opened strictly in order."""

    send_key: bytes
    recv_key: bytes
    send_label: bytes
    recv_label: bytes
    _sent: int = field(default=0, init=False)
    _received: int = field(default=0, init=False)

    def seal(self, frame: dict[str, Any]) -> str:
        plain = json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = AESGCM(self.send_key).encrypt(nonce(self._sent), plain, self.send_label)
        self._sent += 1
        return b64url(sealed)

    def open(self, data: object) -> dict[str, Any]:
        try:
            plain = AESGCM(self.recv_key).decrypt(
                nonce(self._received), unb64url(data), self.recv_label
            )
        except InvalidTag as exc:
            raise ChannelError("a frame failed authentication") from exc
        self._received += 1
        try:
            frame = json.loads(plain)
        except (ValueError, RecursionError) as exc:
            raise ChannelError("a frame is not JSON") from exc
        if not isinstance(frame, dict):
            raise ChannelError("a frame is not a JSON object")
        return frame


def desktop_cipher(keys: SessionKeys) -> FrameCipher:
    return FrameCipher(
        keys.desktop_to_phone, keys.phone_to_desktop, DESKTOP_TO_PHONE, PHONE_TO_DESKTOP
    )


def phone_cipher(keys: SessionKeys) -> FrameCipher:
    return FrameCipher(
        keys.phone_to_desktop, keys.desktop_to_phone, PHONE_TO_DESKTOP, DESKTOP_TO_PHONE
    )
