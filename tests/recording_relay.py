"""The relay's own code, in this process, keeping a copy of every message and request it
sees: for tests that search what a relay could learn."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

from websockets.asyncio.server import serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "relay"))

from cloudtolocalllm_relay.http import HttpRoutes  # noqa: E402
from cloudtolocalllm_relay.limits import Limits  # noqa: E402
from cloudtolocalllm_relay.logs import EventLog  # noqa: E402
from cloudtolocalllm_relay.routes import Relay  # noqa: E402


class RecordingConnection:
    """A server connection whose every message in and out is also appended to `seen`."""

    def __init__(self, ws: Any, seen: list[str]) -> None:
        self._ws, self._seen = ws, seen

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    async def recv(self, *args: Any, **kwargs: Any) -> Any:
        message = await self._ws.recv(*args, **kwargs)
        self._seen.append(_text(message))
        return message

    def __aiter__(self):
        return self._messages()

    async def _messages(self):
        async for message in self._ws:
            self._seen.append(_text(message))
            yield message

    async def send(self, message: Any) -> None:
        self._seen.append(_text(message))
        await self._ws.send(message)


def _text(message: str | bytes) -> str:
    return message if isinstance(message, str) else message.decode("latin-1")


class RecordingRelay:
    def __init__(self, log_path: Path) -> None:
        self.seen: list[str] = []
        self.log_path = log_path
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> RecordingRelay:
        ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(ready),), daemon=True)
        self._thread.start()
        assert ready.wait(10), "the relay did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
            self._thread.join(10)
            self._loop = None

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        with open(self.log_path, "a") as log:
            relay = Relay(Limits(), EventLog(log))
            routes = HttpRoutes(relay.metrics)

            def http(connection, request):
                self.seen.append(f"{request.path}\n{request.headers}")
                return routes(connection, request)

            async def handle(ws) -> None:
                await relay.handle(RecordingConnection(ws, self.seen))

            async with serve(handle, "127.0.0.1", self.port, process_request=http) as server:
                self.port = server.sockets[0].getsockname()[1]
                ready.set()
                await self._stop
