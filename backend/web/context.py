"""The app's services as a request sees them: one accessor, typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from backend.core.services import Services

if TYPE_CHECKING:
    from backend.core.remote.service import RemoteAccess
    from backend.web.ws import SocketRegistry

_SERVICES = "cloudtolocalllm"
_SOCKETS = "cloudtolocalllm.sockets"
_REMOTE = "cloudtolocalllm.remote"


def install(app: Flask, services: Services, sockets: SocketRegistry) -> None:
    app.extensions[_SERVICES] = services
    app.extensions[_SOCKETS] = sockets


def services() -> Services:
    """The services of the app handling this request."""
    return current_app.extensions[_SERVICES]


def open_sockets() -> int:
    return len(current_app.extensions[_SOCKETS])


def install_remote(app: Flask, remote: RemoteAccess) -> None:
    app.extensions[_REMOTE] = remote


def remote_access(app: Flask | None = None) -> RemoteAccess:
    """Remote access of `app`, or of the app handling this request."""
    return (app or current_app).extensions[_REMOTE]
