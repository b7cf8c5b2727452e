"""`cloudtolocalllm-relay` as a real process, and raw clients for its two sides."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from websockets.sync.client import ClientConnection, connect

from backend.core.remote.channel import b64url, unb64url
from backend.core.remote.keys import RELAY_CHALLENGE_CONTEXT
from tests.app_process import REPO, start_until_ready_line


class RelayProcess:
    def __init__(self, workdir: Path, *args: str) -> None:
        self.args = list(args)
        self.stderr_path = workdir / f"relay-{uuid.uuid4().hex[:8]}.log"
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}

    def start(self, timeout: float = 20.0) -> RelayProcess:
        argv = [sys.executable, "-m", "cloudtolocalllm_relay", *self.args]
        # The relay from this source tree, installed or not (as `backend/` shadows).
        env = {**os.environ, "PYTHONPATH": str(REPO / "relay")}
        self.proc, line = start_until_ready_line(argv, env, self.stderr_path, timeout)
        if not line:
            self.stop()
            raise RuntimeError(f"relay not ready: {self.log()}")
        self.ready = json.loads(line)
        return self

    @property
    def url(self) -> str:
        return self.ready["url"]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://").rstrip("/")

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


class RawDesktop:
    """A desktop's side of the relay protocol, by hand: for tests of the relay itself."""

    def __init__(self, relay: RelayProcess, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.id = b64url(raw)
        # Entered at once: the tests close it, or the relay does.
        self.ws: ClientConnection = connect(f"{relay.ws_url}/v1/desktop").__enter__()

    def authenticate(self, *, sign_with: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        challenge = self.recv()
        assert challenge["type"] == "challenge"
        signer = sign_with or self.key
        signature = signer.sign(RELAY_CHALLENGE_CONTEXT + unb64url(challenge["nonce"]))
        self.send({"type": "auth", "desktop_id": self.id, "signature": b64url(signature)})
        return self.recv()

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout))


class RawDevice:
    def __init__(self, relay: RelayProcess, desktop_id: str) -> None:
        self.ws: ClientConnection = connect(f"{relay.ws_url}/v1/device/{desktop_id}").__enter__()

    def send_data(self, data: str) -> None:
        self.ws.send(json.dumps({"type": "data", "data": data}))

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout))


def carry_both_ways(desktop: RawDesktop, device: RawDevice, up: str, down: str) -> str:
    """The desktop is told of the device's connection, and the relay carries one data frame
    each way through it: `up` to the desktop, `down` to the device. The connection's id."""
    opened = desktop.recv()
    assert opened["type"] == "open"
    device.send_data(up)
    assert desktop.recv() == {"type": "data", "conn": opened["conn"], "data": up}
    desktop.send({"type": "data", "conn": opened["conn"], "data": down})
    assert device.recv() == {"type": "data", "data": down}
    return opened["conn"]
