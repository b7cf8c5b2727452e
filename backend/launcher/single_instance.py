"""One running app per data dir, and how a second launch finds it.

The first launch holds an OS lock on `<data-dir>/instance.lock` for as long as it runs and
publishes how to reach it (port, token, pid) in `instance.json`, readable by the user only
since the token opens its API. The OS drops the lock when the process ends, however it
ends, so a lock left by a crash is never mistaken for a running app: the next launch simply
takes it. A second launch asks the first over its HTTP API to show its window instead of
opening the same database a second time.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

LOCK_FILENAME = "instance.lock"
INFO_FILENAME = "instance.json"
# A first launch publishes its address once its server listens, which takes a moment:
# a second launch made in that moment waits this long for it.
PUBLISH_WAIT_S = 15.0
POLL_S = 0.1
REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class InstanceInfo:
    """How to reach the app that holds the lock."""

    pid: int
    url: str
    token: str
    mode: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class InstanceLock:
    """The data dir's lock: `acquire()` once at start-up, `release()` (or exit) at the end."""

    def __init__(self, data_dir: Path) -> None:
        self.lock_path = Path(data_dir) / LOCK_FILENAME
        self.info_path = Path(data_dir) / INFO_FILENAME
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> bool:
        """Take the lock; False when another running app holds it."""
        if self._file is not None:
            return True
        handle = open(self.lock_path, "a+b")  # held open, and so locked, while the app runs
        if not _try_lock(handle):
            handle.close()
            return False
        self._file = handle
        # What a crashed app published is stale now: nobody must find it before we publish.
        self.info_path.unlink(missing_ok=True)
        return True

    def publish(self, info: InstanceInfo) -> None:
        """Tell later launches how to reach this app (atomically, readable by the user only)."""
        if self._file is None:
            raise RuntimeError("publish() needs the lock")
        partial = self.info_path.with_name(self.info_path.name + ".partial")
        partial.unlink(missing_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(info.to_json())
        os.replace(partial, self.info_path)

    def release(self) -> None:
        """Withdraw the published address and let the next launch in; safe to call twice."""
        if self._file is None:
            return
        self.info_path.unlink(missing_ok=True)
        self._file.close()  # closing the file drops the OS lock
        self._file = None

    def running(self) -> InstanceInfo | None:
        """What the lock's holder published, if it is still the process that published it."""
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
            info = InstanceInfo(
                pid=int(data["pid"]),
                url=str(data["url"]),
                token=str(data["token"]),
                mode=str(data["mode"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return info if _pid_alive(info.pid) else None


def claim_or_find(
    lock: InstanceLock,
    timeout: float = PUBLISH_WAIT_S,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> InstanceInfo | None:
    """Take the lock (None: this launch is the app), or find the app that holds it.

    An app that is starting has not published its address yet, and one that is quitting
    has withdrawn it but still holds the lock: wait for either to settle.
    """
    deadline = clock() + timeout
    while True:
        if lock.acquire():
            return None
        info = lock.running()
        if info is not None:
            return info
        if clock() >= deadline:
            raise HandOverError(
                f"another CloudToLocalLLM holds {lock.lock_path.parent} "
                "but does not say where it runs"
            )
        sleep(POLL_S)


class HandOverError(Exception):
    """The running app could not be asked to show itself; the message is for the user."""


def ask_to_show(info: InstanceInfo, *, new_chat: bool = False) -> dict[str, Any]:
    """Ask the running app to bring its window to the front (with a new chat if asked)."""
    import requests  # only a second launch needs it: keep the first one's start-up light

    try:
        response = requests.post(
            info.url + "api/app/show",
            json={"new_chat": new_chat},
            headers={"Authorization": f"Bearer {info.token}"},
            timeout=REQUEST_TIMEOUT_S,
        )
    except requests.RequestException as exc:
        raise HandOverError(f"it does not answer at {info.url} ({type(exc).__name__})") from exc
    if response.status_code == 202:
        return response.json()
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {response.status_code}"
    raise HandOverError(message)


def _try_lock(handle: IO[bytes]) -> bool:
    """A non-blocking exclusive lock on an open file; False if another process has it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would end the process there; the lock speaks for it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, and someone else's
    return True
