"""The desktop's two long-lived keys: Ed25519 to prove its id to a relay (the id is the
public key), X25519 for the end-to-end channel (pinned by each device at pairing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from backend.core.remote.channel import b64url, public_bytes, unb64url
from backend.core.remote.files import read_json, write_private_json

# Signed with the relay's nonce; the relay checks the same prefix.
RELAY_CHALLENGE_CONTEXT = b"cloudtolocalllm-relay-auth-v1\x00"


@dataclass(frozen=True)
class DesktopKeys:
    identity: Ed25519PrivateKey
    static: X25519PrivateKey

    @property
    def desktop_id(self) -> str:
        return b64url(self.identity.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def static_public(self) -> str:
        return b64url(public_bytes(self.static))

    def sign_challenge(self, nonce: bytes) -> str:
        return b64url(self.identity.sign(RELAY_CHALLENGE_CONTEXT + nonce))


def load_or_create_keys(path: Path) -> DesktopKeys:
    stored = read_json(path, None)
    if stored is not None:
        return DesktopKeys(
            Ed25519PrivateKey.from_private_bytes(unb64url(stored["identity"])),
            X25519PrivateKey.from_private_bytes(unb64url(stored["static"])),
        )
    keys = DesktopKeys(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())
    write_private_json(
        path, {"identity": _raw_private(keys.identity), "static": _raw_private(keys.static)}
    )
    return keys


def _raw_private(key: Ed25519PrivateKey | X25519PrivateKey) -> str:
    return b64url(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
