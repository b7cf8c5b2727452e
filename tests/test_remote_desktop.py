"""The desktop's side of remote access, with a real relay process and a device in Python:
pairing, approval, the app's REST and WebSocket through the channel, revocation."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed

from backend.core.remote.channel import b64url, unb64url
from backend.core.remote.devices import DeviceBook
from tests.remote_fixtures import wait_for_state
from tests.remote_phone import Phone

CLOSED_BY_DESKTOP = 4000  # the relay's code for a device connection the desktop ended


def api(rt, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {rt.token}"}
    return requests.request(
        method, rt.url + path.lstrip("/"), headers=headers, timeout=10, **kwargs
    )


def paired_phone(rt, name: str = "Test phone") -> Phone:
    pairing = api(rt, "POST", "/api/remote/pairings")
    assert pairing.status_code == 201
    phone = Phone(pairing.json()["pair_url"]).connect()
    pending = phone.pair(name)
    device = next(d for d in api(rt, "GET", "/api/remote/devices").json()["devices"])
    assert pending == {"type": "pair.pending", "code": device["short_code"]}
    assert api(rt, "POST", f"/api/remote/devices/{device['id']}/approve").status_code == 200
    assert phone.recv() == {"type": "pair.approved"}
    phone.device_id = device["id"]
    return phone


def test_remote_status_and_a_pairing_link(remote_runtime):
    rt = remote_runtime
    status = api(rt, "GET", "/api/remote").json()
    assert status["state"] == "online" and status["relay_url"] == rt.relay.url.rstrip("/")
    answer = api(rt, "POST", "/api/remote/pairings")
    assert answer.status_code == 201
    pair_url, expires_at = answer.json()["pair_url"], answer.json()["expires_at"]
    assert pair_url.startswith(rt.relay.url.rstrip("/") + "/#")
    assert {"d", "k", "p", "s"} <= set(Phone(pair_url).offer)
    assert expires_at.endswith("Z")


def test_pair_approve_and_use_the_api(remote_runtime):
    rt = remote_runtime
    phone = paired_phone(rt, "Ada's phone")
    devices = api(rt, "GET", "/api/remote/devices").json()["devices"]
    assert [(d["name"], d["state"]) for d in devices] == [("Ada's phone", "approved")]
    assert set(devices[0]) == {"id", "name", "state", "created_at", "last_seen"}
    created = phone.http("POST", "/api/conversations", {"title": "From afar"})
    assert created["status"] == 201 and created["body"]["title"] == "From afar"
    listed = phone.http("GET", "/api/conversations", request_id=2)["body"]["conversations"]
    assert [c["title"] for c in listed] == ["From afar"]
    folder = rt.settings.data_dir / "remote"
    assert DeviceBook(folder / "devices.json").list()[0].last_seen is not None  # kept on disk
    for private in ("keys.json", "devices.json"):
        assert (folder / private).stat().st_mode & 0o777 == 0o600, private
    sneaky = [
        "/api/remote/devices",
        "/api/%72emote/devices",
        "/api/app/show",
        "/api/session/exchange",
    ]
    for n, path in enumerate(sneaky):
        assert phone.http("GET" if n < 2 else "POST", path, request_id=3 + n)["status"] == 403
    assert phone.http("GET", "/api//remote/devices", request_id=9)["status"] != 200


def test_chat_streams_through_the_channel_and_stops(remote_runtime, fake_ollama):
    phone = paired_phone(remote_runtime)
    assert phone.ws_open() is False  # a fresh socket
    phone.ws_send(
        {
            "type": "chat.send",
            "request_id": "r1",
            "conversation_id": None,
            "content": "hello",
            "model": "llama3.2:latest",
        }
    )
    start = phone.ws_recv(skip=("status", "conversation.created", "conversation.updated"))
    assert start["type"] == "start" and start["seq"] == 0
    frames = []
    while not frames or frames[-1]["type"] not in ("complete", "cancelled", "error"):
        frames.append(phone.ws_recv(skip=("status", "conversation.updated")))
    assert frames[-1]["type"] == "complete"
    deltas = "".join(f["delta"] for f in frames if f["type"] == "chunk")
    assert deltas == frames[-1]["content"] == "".join(fake_ollama.reply_tokens())
    fake_ollama.token_delay = 0.2
    phone.ws_send(
        {
            "type": "chat.send",
            "request_id": "r2",
            "conversation_id": start["conversation_id"],
            "content": "again",
        }
    )
    second = phone.ws_recv(skip=("status", "conversation.updated"))
    phone.ws_send({"type": "chat.cancel", "message_id": second["message_id"]})
    ending = phone.ws_recv(skip=("status", "conversation.updated", "chunk"))
    assert ending["type"] == "cancelled"


def test_wrong_expired_and_reused_pairing_secrets_are_refused(remote_runtime):
    rt = remote_runtime
    url = api(rt, "POST", "/api/remote/pairings").json()["pair_url"]
    assert desktop_ends_pairing(Phone(url).connect(), secret=os.urandom(32))
    assert Phone(url).connect().pair("First")["type"] == "pair.pending"
    assert desktop_ends_pairing(Phone(url).connect())  # used once already
    expiring = api(rt, "POST", "/api/remote/pairings").json()["pair_url"]
    rt.remote.pairings.clock = lambda: time.time() + 11 * 60
    assert desktop_ends_pairing(Phone(expiring).connect())
    names = [d["name"] for d in api(rt, "GET", "/api/remote/devices").json()["devices"]]
    assert names == ["First"]


def desktop_ends_pairing(phone: Phone, secret: bytes | None = None) -> bool:
    """Whether the desktop closes the connection rather than take the pairing request."""
    try:
        phone.handshake(pairing=True, secret=secret, read_session=False)
        phone.recv_data()  # the desktop's `session` frame, sealed with its own keys
        phone.send({"type": "pair.request", "name": "Mallory"})
    except ConnectionClosed:
        pass  # refused at the hello already
    return phone.closed_code() == CLOSED_BY_DESKTOP


def test_a_revoked_device_is_cut_off_at_once(remote_runtime):
    rt = remote_runtime
    phone = paired_phone(rt)
    assert phone.ws_open() is False
    assert api(rt, "DELETE", f"/api/remote/devices/{phone.device_id}").status_code == 204
    assert phone.closed_code() == CLOSED_BY_DESKTOP
    assert api(rt, "GET", "/api/remote/devices").json() == {"devices": []}
    again = Phone(phone_url(rt), key=phone.key).connect()
    again.offer["k"] = phone.offer["k"]
    with pytest.raises(ConnectionClosed):
        again.handshake(pairing=False)
    assert again.closed_code() == CLOSED_BY_DESKTOP


def phone_url(rt) -> str:
    return api(rt, "POST", "/api/remote/pairings").json()["pair_url"]


def test_a_pending_device_can_do_nothing_but_wait(remote_runtime):
    rt = remote_runtime
    phone = Phone(phone_url(rt)).connect()
    assert phone.pair("Not yet")["type"] == "pair.pending"
    phone.send({"type": "http", "id": 1, "method": "GET", "path": "/api/conversations"})
    assert phone.closed_code() == CLOSED_BY_DESKTOP


def test_a_reply_survives_a_relay_restart_with_nothing_lost_or_repeated(
    remote_runtime, fake_ollama
):
    rt = remote_runtime
    phone = paired_phone(rt)
    phone.ws_open()
    fake_ollama.token_count, fake_ollama.token_delay = 40, 0.05
    phone.ws_send(
        {
            "type": "chat.send",
            "request_id": "r1",
            "conversation_id": None,
            "content": "a long one",
            "model": "llama3.2:latest",
        }
    )
    skip = ("status", "conversation.created", "conversation.updated")
    frames = [phone.ws_recv(skip=skip)]
    while len(frames) < 4:
        frames.append(phone.ws_recv(skip=skip))
    port = rt.relay.ready["port"]
    assert rt.relay.stop() == 0  # the link drops mid-reply; the desktop keeps generating
    restarted = rt.relay = type(rt.relay)(rt.relay.stderr_path.parent, "--port", str(port))
    restarted.start()
    wait_for_state(rt.remote, "online")
    phone.connect(restarted.url)
    assert phone.handshake(pairing=False) == {"type": "session", "state": "approved"}
    assert phone.ws_open(resume_after=phone.last_index) is True
    while frames[-1]["type"] not in ("complete", "cancelled", "error"):
        frames.append(phone.ws_recv(skip=skip))  # asserts every index follows the last
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(len(frames)))
    text = "".join(f["delta"] for f in frames if f["type"] == "chunk")
    assert frames[-1]["type"] == "complete" and text == frames[-1]["content"]
    assert text == "".join(fake_ollama.reply_tokens())
    restarted.stop()


def test_a_malicious_relay_makes_the_desktop_do_nothing(remote_runtime, fake_ollama):
    """Frames a relay could send in the device's name: the device's own frames replayed,
    reordered or altered, and frames it makes up. Each ends the session, and nothing runs."""
    rt = remote_runtime
    phone = paired_phone(rt)
    send = {
        "type": "http",
        "id": 9,
        "method": "POST",
        "path": "/api/conversations",
        "body": {"title": "Once"},
    }
    sealed = phone.cipher.seal(send)
    phone.send_data(sealed)
    assert phone.recv()["status"] == 201
    phone.send_data(sealed)  # replayed
    assert phone.closed_code() == CLOSED_BY_DESKTOP
    attacks = {
        "reordered": lambda p: [p.cipher.seal({"type": "ws.open"}), p.cipher.seal(send)][::-1],
        "bit flipped": lambda p: [flip_bit(p.cipher.seal(send))],
        "injected": lambda p: [b64url(os.urandom(80))],
        "plaintext": lambda p: ['{"type": "http", "id": 1, "method": "POST"}'],
        "new hello": lambda p: [json.dumps({"t": "hello", "v": 1, "e": "x", "box": "y"})],
    }
    for name, forge in attacks.items():
        victim = Phone(phone_url(rt), key=phone.key)
        victim.offer["k"] = phone.offer["k"]
        victim.connect()
        victim.handshake(pairing=False)
        for data in forge(victim):
            victim.send_data(data)
        assert victim.closed_code() == CLOSED_BY_DESKTOP, name
    titles = [c["title"] for c in api(rt, "GET", "/api/conversations").json()["conversations"]]
    assert titles == ["Once"]
    assert fake_ollama.chat_requests == []


def flip_bit(data: str) -> str:
    raw = bytearray(unb64url(data))
    raw[len(raw) // 2] ^= 0x04
    return b64url(bytes(raw))
