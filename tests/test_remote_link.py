"""The desktop's link against a hostile relay: junk control frames, frames for connections
it never opened, hellos that are not hellos. The link stays up; each bad session is ended
and nothing is answered in it."""

from __future__ import annotations

import asyncio
import json
import threading

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from websockets.asyncio.server import serve

from backend.core.remote.channel import unb64url
from backend.core.remote.handshake import PhoneHandshake
from tests.remote_fixtures import wait_for_state

JUNK = [
    "not json",
    "[]",
    "[" * 100_000,
    json.dumps({"type": "data", "conn": "never-opened", "data": "AAAA"}),
    json.dumps({"type": "open", "conn": 5}),
    json.dumps({"type": "open", "conn": "c1"}),
    json.dumps({"type": "data", "conn": "c1", "data": 7}),
    json.dumps({"type": "data", "conn": "c1", "data": "[" * 100_000}),
    json.dumps({"type": "open", "conn": "c2"}),
    json.dumps({"type": "data", "conn": "c2", "data": json.dumps({"t": "hello", "v": 1})}),
    json.dumps({"type": "close", "conn": "nobody"}),
]


class HostileRelay:
    """Welcomes any desktop, sends it `JUNK`, then a well-formed hello from a device the
    desktop never paired, on `conn` c3."""

    def __init__(self, desktop_static: bytes) -> None:
        self.phone = PhoneHandshake(desktop_static, X25519PrivateKey.generate())
        self.logins = 0
        self.answers: list[dict] = []
        self.answered = threading.Event()
        ready = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(ready),), daemon=True)
        self.thread.start()
        assert ready.wait(10)

    async def _main(self, ready: threading.Event) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = self.loop.create_future()
        async with serve(self._desktop, "127.0.0.1", 0, max_size=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            await self.stop

    async def _desktop(self, ws) -> None:
        self.logins += 1
        await ws.send(json.dumps({"type": "challenge", "nonce": "AAAA"}))
        await ws.recv()
        await ws.send(json.dumps({"type": "welcome"}))
        for frame in JUNK:
            await ws.send(frame)
        await ws.send(json.dumps({"type": "open", "conn": "c3"}))
        hello = json.dumps(self.phone.hello())
        await ws.send(json.dumps({"type": "data", "conn": "c3", "data": hello}))
        async for raw in ws:
            self.answers.append(json.loads(raw))
            if len(self.answers) >= 3:
                self.answered.set()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set_result, None)
        self.thread.join(10)


def test_a_hostile_relay_neither_breaks_the_link_nor_gets_an_answer_to_junk(runtime):
    remote = runtime.remote
    relay = HostileRelay(unb64url(remote.keys.static_public))
    try:
        remote.set_relay_url(f"http://127.0.0.1:{relay.port}")
        assert relay.answered.wait(20), relay.answers
        # The junk sessions were ended; the real device (unknown: not paired) was refused.
        closed = [a["conn"] for a in relay.answers if a["type"] == "close"]
        assert set(closed) == {"c1", "c2", "c3"}
        assert not [a for a in relay.answers if a["type"] == "data"]
        wait_for_state(remote, "online")
        assert relay.logins == 1  # never dropped and reconnected
    finally:
        remote.set_relay_url(None)
        relay.close()
