"""Who may talk to the backend: the per-launch token, and Host and Origin checks."""

from __future__ import annotations

import hmac
import secrets
import threading
import time

from flask import Request

from backend.core.errors import AppError
from backend.web.handshake import check_handshake

STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# The one /api/ call made without the token: it trades a launch code for the token.
EXCHANGE_PATH = "/api/session/exchange"
CODE_LIFETIME_S = 60.0  # long enough for a cold browser start, short for a leaked code
MAX_LIVE_CODES = 16  # a runaway opener cannot grow the table


class Forbidden(AppError):
    http_status = 403
    code = "forbidden"


class Unauthorized(AppError):
    http_status = 401
    code = "unauthorized"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def allowed_hosts(port: str, bound_host: str) -> set[str]:
    """The Host headers a browser sends for this server; others mean DNS rebinding."""
    names = set(LOOPBACK_NAMES)
    if bound_host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""):
        names.add(f"[{bound_host}]" if ":" in bound_host else bound_host)
    return {f"{name}:{port}" for name in names}


def _acceptable_host(host: str, hosts: set[str]) -> bool:
    # Some clients (simple-websocket among them) leave the port out. A bare loopback name
    # is no rebinding risk: a rebinding page's requests carry the attacker's host name.
    return host in hosts or host in LOOPBACK_NAMES


def check_request(request: Request, token: str, bound_host: str) -> None:
    """Raise Forbidden or Unauthorized unless the request may proceed."""
    port = request.environ.get("SERVER_PORT", "")
    hosts = allowed_hosts(port, bound_host)
    if not _acceptable_host(request.host.lower(), hosts):
        raise Forbidden("This server only answers to its own address", code="forbidden_host")
    needs_token = (
        request.path.startswith("/api/") or request.path == "/ws"
    ) and request.path != EXCHANGE_PATH
    origin = request.headers.get("Origin")
    if origin is not None and (request.path == "/ws" or request.method in STATE_CHANGING_METHODS):
        if origin.lower() not in {f"http://{host}" for host in hosts}:
            raise Forbidden("Requests from other sites are refused", code="forbidden_origin")
    if needs_token and not _has_token(request, token):
        raise Unauthorized("A valid token is required", code="unauthorized")
    if request.path == "/ws":
        check_handshake(request)


def _has_token(request: Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return True
    supplied = request.args.get("token", "")
    return bool(supplied) and hmac.compare_digest(supplied.encode(), token.encode())


class LaunchCodes:
    """Short-lived, single-use codes that stand for the token on a browser's command line.

    The command line of a process is readable by every local user (`ps`), so `--web` opens
    `/?code=…` instead of `/?token=…`; the page trades the code for the token once, over
    a POST that no other process sees.
    """

    def __init__(self, lifetime_s: float = CODE_LIFETIME_S) -> None:
        self.lifetime_s = lifetime_s
        self._codes: dict[str, float] = {}  # code -> monotonic expiry
        self._lock = threading.Lock()

    def issue(self) -> str:
        code = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._drop_expired(now)
            while len(self._codes) >= MAX_LIVE_CODES:
                self._codes.pop(next(iter(self._codes)))  # the oldest goes first
            self._codes[code] = now + self.lifetime_s
        return code

    def redeem(self, code: str) -> bool:
        """True once for a live code; False for a used, expired or unknown one."""
        now = time.monotonic()
        with self._lock:
            self._drop_expired(now)
            # Compared in constant time, like the token, not looked up by hashing.
            given = code.encode()
            match = next(
                (known for known in self._codes if hmac.compare_digest(known.encode(), given)),
                None,
            )
            if match is None:
                return False
            del self._codes[match]
            return True

    def _drop_expired(self, now: float) -> None:
        for code in [code for code, expiry in self._codes.items() if expiry <= now]:
            del self._codes[code]
