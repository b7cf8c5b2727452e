"""Two relay processes sharing routes through a real redis-server: a desktop on one and its
devices on the other still reach each other, and hear each other come and go."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis

from tests.relay_process import RawDesktop, RawDevice, carry_both_ways
from tests.remote_fixtures import wait_for_state
from tests.remote_phone import Phone
from tests.test_relay import closed_code

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server (bash .ci/run installs it)")
    port = free_port()
    args = [
        REDIS_SERVER,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)


def test_a_desktop_and_its_device_on_different_relays(relay, redis_url):
    first, second = relay("--redis", redis_url), relay("--redis", redis_url)
    desktop = RawDesktop(first)
    assert desktop.authenticate() == {"type": "welcome"}
    device = RawDevice(second, desktop.id)
    assert device.recv() == {"type": "desktop", "state": "online"}
    conn = carry_both_ways(desktop, device, up="dG8gdGhlIGRlc2t0b3A", down="dG8gdGhlIGRldmljZQ")
    device.ws.close()
    assert desktop.recv() == {"type": "close", "conn": conn}

    other = RawDevice(second, desktop.id)
    assert other.recv()["state"] == "online"
    conn = desktop.recv()["conn"]
    desktop.send({"type": "close", "conn": conn})
    assert closed_code(other.ws) == 4000


def test_devices_hear_their_desktop_come_and_go_across_relays(relay, redis_url):
    first, second = relay("--redis", redis_url), relay("--redis", redis_url)
    desktop = RawDesktop(first)
    device = RawDevice(second, desktop.id)
    assert device.recv() == {"type": "desktop", "state": "offline"}
    desktop.authenticate()
    assert device.recv() == {"type": "desktop", "state": "online"}
    assert desktop.recv()["type"] == "open"
    desktop.ws.close()
    assert device.recv() == {"type": "desktop", "state": "offline"}

    moved = RawDesktop(second, key=desktop.key)  # back, on the device's own relay
    moved.authenticate()
    assert device.recv() == {"type": "desktop", "state": "online"}
    again = RawDesktop(first, key=desktop.key)  # and once more on the first: it takes over
    again.authenticate()
    assert closed_code(moved.ws) == 4409
    assert device.recv() == {"type": "desktop", "state": "online"}
    conn = again.recv()["conn"]
    device.send_data("b3Zlcg")
    assert again.recv() == {"type": "data", "conn": conn, "data": "b3Zlcg"}


def test_the_app_and_a_phone_on_different_relays(relay, redis_url, runtime, fake_ollama):
    first, second = relay("--redis", redis_url), relay("--redis", redis_url)
    runtime.remote.set_relay_url(first.url)
    wait_for_state(runtime.remote, "online")
    phone = Phone(runtime.remote.create_pairing()["pair_url"]).connect(second.url)
    assert phone.pair("Across relays")["type"] == "pair.pending"
    runtime.remote.approve(runtime.remote.devices()[0]["id"])
    assert phone.recv() == {"type": "pair.approved"}
    phone.ws_open()
    phone.ws_send(
        {
            "type": "chat.send",
            "request_id": "r1",
            "conversation_id": None,
            "content": "hello from afar",
        }
    )
    skip = ("status", "conversation.created", "conversation.updated")
    frames = [phone.ws_recv(skip=skip)]
    while frames[-1]["type"] not in ("complete", "cancelled", "error"):
        frames.append(phone.ws_recv(skip=skip))
    assert frames[-1]["content"] == "".join(fake_ollama.reply_tokens())
    runtime.remote.set_relay_url(None)
