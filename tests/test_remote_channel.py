"""The end-to-end channel: both sides agree on keys; anything replayed, reordered or altered
fails; the wrong key or pairing secret gets nowhere."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from backend.core.remote.channel import (
    ChannelError,
    b64url,
    desktop_cipher,
    dh,
    load_public,
    public_bytes,
    session_keys,
    unb64url,
)
from backend.core.remote.handshake import PhoneHandshake, answer_hello

SECRET = os.urandom(32)


def no_pairing(pairing_id: str, phone_key: bytes) -> bytes | None:
    return None


def pair(desktop: X25519PrivateKey, *, phone_secret: bytes | None = None, lookup=None):
    phone = PhoneHandshake(
        public_bytes(desktop), X25519PrivateKey.generate(), "p1", phone_secret or SECRET
    )
    session, welcome = answer_hello(desktop, phone.hello(), lookup or (lambda pid, key: SECRET))
    phone_cipher, phone_code = phone.finish(welcome)
    return session, phone_cipher, phone_code


def test_both_sides_derive_the_same_keys_and_short_code():
    desktop = X25519PrivateKey.generate()
    session, phone, code = pair(desktop)
    assert code == session.short_code and len(code) == 6 and code.isdigit()
    assert session.cipher.open(phone.seal({"type": "ping"})) == {"type": "ping"}
    assert phone.open(session.cipher.seal({"type": "pong", "n": 1})) == {"type": "pong", "n": 1}


def test_sessions_get_fresh_keys_each_time():
    desktop = X25519PrivateKey.generate()
    first, phone_a, _ = pair(desktop)
    second, phone_b, _ = pair(desktop)
    sealed = phone_a.seal({"type": "ping"})
    with pytest.raises(ChannelError):
        second.cipher.open(sealed)
    assert first.cipher.open(sealed) == {"type": "ping"}


def test_replayed_reordered_and_altered_frames_fail():
    desktop = X25519PrivateKey.generate()
    session, phone, _ = pair(desktop)
    frames = [phone.seal({"n": n}) for n in range(3)]
    assert session.cipher.open(frames[0]) == {"n": 0}
    for bad in (frames[0], frames[2]):  # replayed; out of order
        with pytest.raises(ChannelError):
            session.cipher.open(bad)
    raw = bytearray(unb64url(frames[1]))
    raw[5] ^= 0x01
    with pytest.raises(ChannelError):
        session.cipher.open(b64url(bytes(raw)))
    assert session.cipher.open(frames[1]) == {"n": 1}


def test_a_frame_sent_one_way_cannot_be_reflected_back():
    desktop = X25519PrivateKey.generate()
    session, phone, _ = pair(desktop)
    with pytest.raises(ChannelError):
        phone.open(phone.seal({"n": 0}))


def test_a_wrong_pairing_secret_gives_different_keys():
    desktop = X25519PrivateKey.generate()
    session, phone, _ = pair(desktop, phone_secret=os.urandom(32))
    with pytest.raises(ChannelError):
        session.cipher.open(phone.seal({"type": "pair.request"}))


def test_an_unknown_pairing_is_refused():
    with pytest.raises(ChannelError):
        pair(X25519PrivateKey.generate(), lookup=no_pairing)


def test_a_phone_holding_another_desktop_key_gets_nowhere():
    desktop, other = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    phone = PhoneHandshake(public_bytes(other), X25519PrivateKey.generate(), "p1", SECRET)
    with pytest.raises(ChannelError):
        answer_hello(desktop, phone.hello(), lambda pid, key: SECRET)


def test_an_impostor_desktop_cannot_complete_the_session():
    """A relay answering the hello itself knows the ephemeral keys, not the static ones."""
    desktop = X25519PrivateKey.generate()
    phone = PhoneHandshake(public_bytes(desktop), X25519PrivateKey.generate())
    hello = phone.hello()
    relay_eph = X25519PrivateKey.generate()
    phone_eph = load_public(unb64url(hello["e"]))
    guessed = [dh(relay_eph, phone_eph), os.urandom(32), os.urandom(32)]
    transcript = [
        public_bytes(desktop),
        os.urandom(32),
        unb64url(hello["e"]),
        public_bytes(relay_eph),
    ]
    forged = desktop_cipher(session_keys(guessed, transcript, None))
    phone_cipher, _ = phone.finish({"t": "welcome", "e": b64url(public_bytes(relay_eph))})
    with pytest.raises(ChannelError):
        phone_cipher.open(forged.seal({"type": "session.ready"}))


@pytest.mark.parametrize(
    "hello",
    [None, {}, {"t": "hello", "v": 1}, {"t": "hello", "v": 1, "e": "AAAA", "box": "AAAA"}],
)
def test_malformed_hellos_are_refused(hello):
    with pytest.raises(ChannelError):
        answer_hello(X25519PrivateKey.generate(), hello, no_pairing)
