"""Model management: DELETE /api/models/<name> and pulling over the WebSocket."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from backend.web.model_frames import PROGRESS_INTERVAL_S, LatestOnly, progress_frame
from tests.fake_ollama import _pull_transcript
from tests.wsclient import WsClient


def url(runtime, path: str) -> str:
    return runtime.url + "api" + path


def auth(runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {runtime.token}"}


@pytest.fixture
def ws(runtime):
    client = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    yield client
    client.close()


def subscribe(ws: WsClient, *groups: str) -> None:
    ws.send({"type": "subscribe", "events": list(groups)})
    ws.send({"type": "ping"})
    assert ws.recv()["type"] == "pong"  # frames are handled in order: subscribed now


def pull(ws: WsClient, name: str, request_id: str = "p1") -> list[dict]:
    ws.send({"type": "models.pull", "request_id": request_id, "name": name})
    return ws.recv_until(
        lambda f: (
            f.get("request_id") == request_id
            and f["type"] in ("models.pull.done", "models.pull.cancelled", "error")
        )
    )


def eventually(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- DELETE /api/models/<name> ---------------------------------------------------------


def test_delete_removes_the_model_and_announces_it(runtime, fake_ollama, ws) -> None:
    subscribe(ws, "models")
    response = requests.delete(url(runtime, "/models/llama3.2:latest"), headers=auth(runtime))
    assert response.status_code == 204
    listed = requests.get(url(runtime, "/models"), headers=auth(runtime)).json()["models"]
    assert "llama3.2:latest" not in [m["name"] for m in listed]
    assert ws.recv() == {"type": "models.changed", "reason": "deleted", "name": "llama3.2:latest"}
    assert ("DELETE", "/api/delete") in [(r["method"], r["path"]) for r in fake_ollama.requests]


def test_the_monitor_recounts_after_a_delete(runtime, ws) -> None:
    assert eventually(lambda: runtime.services.monitor.status()["model_count"] == 4)
    requests.delete(url(runtime, "/models/qwen3:8b"), headers=auth(runtime))
    frames = ws.recv_until(lambda f: f["type"] == "status" and f.get("model_count") == 3)
    assert frames[-1]["state"] == "connected"


def test_names_with_slashes_reach_ollama(runtime, fake_ollama) -> None:
    fake_ollama.models.append({**fake_ollama.models[0], "name": "hf.co/org/tiny:Q4"})
    response = requests.delete(url(runtime, "/models/hf.co/org/tiny:Q4"), headers=auth(runtime))
    assert response.status_code == 204
    deletes = [r["json"] for r in fake_ollama.requests if r["path"] == "/api/delete"]
    assert deletes == [{"model": "hf.co/org/tiny:Q4"}]


def test_deleting_an_unknown_model_is_404_with_ollamas_words(runtime) -> None:
    response = requests.delete(url(runtime, "/models/ghost:7b"), headers=auth(runtime))
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "model_not_found",
        "message": "model 'ghost:7b' not found",
    }


def test_delete_while_ollama_is_down_is_503(runtime, fake_ollama) -> None:
    fake_ollama.stop()
    response = requests.delete(url(runtime, "/models/qwen3:8b"), headers=auth(runtime))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ollama_unavailable"


# -- models.pull -------------------------------------------------------------------------


def test_a_pull_streams_progress_then_done(runtime, fake_ollama, ws) -> None:
    subscribe(ws, "models")
    frames = pull(ws, "mistral")
    progress = [f for f in frames if f["type"] == "models.pull.progress"]
    assert progress and all(f["request_id"] == "p1" and f["name"] == "mistral" for f in progress)
    assert progress[-1]["status"] == "writing manifest"  # the last line is always sent
    assert frames[-1] == {
        "type": "models.pull.done",
        "request_id": "p1",
        "name": "mistral",
        "status": "success",
    }
    assert fake_ollama.find_model("mistral:latest") is not None
    assert ws.recv() == {"type": "models.changed", "reason": "pulled", "name": "mistral"}


def test_progress_is_rate_limited(runtime, fake_ollama, ws) -> None:
    fake_ollama.pull_delay = 0.02  # 24 lines in about half a second
    started = time.monotonic()
    frames = pull(ws, "gemma3:4b")
    elapsed = time.monotonic() - started
    progress = [f for f in frames if f["type"] == "models.pull.progress"]
    assert len(progress) <= elapsed / PROGRESS_INTERVAL_S + 2
    assert len(progress) < len(_pull_transcript()) - 1
    assert progress[-1]["status"] == "writing manifest"
    assert frames[-1]["type"] == "models.pull.done"


def test_a_failed_pull_gives_ollamas_message(runtime, ws) -> None:
    frames = pull(ws, "no-such-model:1b")
    assert frames[-1] == {
        "type": "error",
        "request_id": "p1",
        "name": "no-such-model:1b",
        "code": "pull_failed",
        "message": "pull model manifest: file does not exist",
    }
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}


def test_a_pull_while_ollama_is_down_fails(runtime, fake_ollama, ws) -> None:
    fake_ollama.stop()
    frames = pull(ws, "mistral")
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "ollama_unavailable"


def test_cancel_closes_the_request(runtime, fake_ollama, ws) -> None:
    fake_ollama.pull_delay = 0.2
    ws.send({"type": "models.pull", "request_id": "p1", "name": "phi4"})
    assert ws.recv() == {
        "type": "models.pull.progress",
        "request_id": "p1",
        "name": "phi4",
        "status": "pulling manifest",
    }
    ws.send({"type": "models.pull.cancel", "request_id": "p1"})
    frames = ws.recv_until(lambda f: f["type"] in ("models.pull.cancelled", "error"))
    assert frames[-1] == {"type": "models.pull.cancelled", "request_id": "p1", "name": "phi4"}
    assert eventually(lambda: fake_ollama.aborted_streams == 1)
    assert fake_ollama.find_model("phi4") is None
    ws.send({"type": "models.pull.cancel", "request_id": "p1"})  # over: nothing to cancel
    assert ws.recv()["code"] == "not_found"


def test_closing_the_socket_stops_its_pulls(runtime, fake_ollama, ws) -> None:
    fake_ollama.pull_delay = 0.1
    ws.send({"type": "models.pull", "request_id": "p1", "name": "phi4"})
    assert ws.recv()["type"] == "models.pull.progress"
    ws.close()
    assert eventually(lambda: fake_ollama.aborted_streams == 1)
    assert fake_ollama.find_model("phi4") is None


def test_a_request_id_is_one_pull_at_a_time(runtime, fake_ollama, ws) -> None:
    fake_ollama.pull_lines = [{"status": s} for s in ("pulling manifest", "success")]
    fake_ollama.pull_delay = 0.1
    ws.send({"type": "models.pull", "request_id": "same", "name": "phi4"})
    ws.send({"type": "models.pull", "request_id": "same", "name": "mistral"})
    error = ws.recv_until(lambda f: f["type"] == "error")[-1]
    assert error["code"] == "duplicate_request" and error["request_id"] == "same"
    frames = ws.recv_until(lambda f: f["type"] == "models.pull.done")
    assert frames[-1]["name"] == "phi4"
    assert pull(ws, "mistral", "same")[-1]["type"] == "models.pull.done"  # free again


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "models.pull", "request_id": "r"}, "missing_field"),
        ({"type": "models.pull", "request_id": "r", "name": "  "}, "invalid_field"),
        ({"type": "models.pull", "name": "mistral"}, "missing_field"),
        ({"type": "models.pull.cancel"}, "missing_field"),
    ],
)
def test_bad_pull_frames(ws, frame, code) -> None:
    ws.send(frame)
    assert ws.recv()["code"] == code


# -- pieces ------------------------------------------------------------------------------


def test_progress_frames_carry_the_layer_percentage() -> None:
    layer = {"status": "pulling dde5", "digest": "sha256:dde5", "total": 2000}
    assert progress_frame("r", "m", layer)["percent"] == 0.0
    assert progress_frame("r", "m", {**layer, "completed": 1000}) == {
        "type": "models.pull.progress",
        "request_id": "r",
        "name": "m",
        "status": "pulling dde5",
        "digest": "sha256:dde5",
        "total": 2000,
        "completed": 1000,
        "percent": 50.0,
    }
    assert "percent" not in progress_frame("r", "m", {"status": "verifying sha256 digest"})


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_latest_only_keeps_the_newest_and_flushes_it_on_close() -> None:
    sent: list[int] = []
    gate = LatestOnly(sent.append, 1.0, clock=ManualClock())
    gate.offer(1)
    assert eventually(lambda: sent == [1])
    gate.offer(2)
    gate.offer(3)  # the clock stands still: not due, and 3 replaces 2
    gate.close()
    assert sent == [1, 3]


def test_latest_only_sends_at_once_when_due() -> None:
    sent: list[int] = []
    clock = ManualClock()
    gate = LatestOnly(sent.append, 1.0, clock=clock)
    gate.offer(1)
    assert eventually(lambda: sent == [1])
    clock.now += 1.0
    gate.offer(2)
    assert eventually(lambda: sent == [1, 2])
    gate.close()
    assert sent == [1, 2]


def test_latest_only_never_holds_an_item_for_the_next_one() -> None:
    sent: list[int] = []
    done = threading.Event()
    gate = LatestOnly(lambda item: (sent.append(item), item == 2 and done.set()), 0.05)
    gate.offer(1)
    assert eventually(lambda: sent == [1])
    gate.offer(2)  # nothing follows: it must go out after one interval anyway
    assert done.wait(5)
    gate.close()
    assert sent == [1, 2]
