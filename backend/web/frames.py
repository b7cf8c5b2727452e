"""Client frame types, their handlers, and what a handler may do with its socket."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from backend.core.errors import BadRequest
from backend.core.json_text import utf8_size
from backend.core.services import Services

if TYPE_CHECKING:
    from backend.core.chat import Reply
    from backend.web.watch_frames import Watcher


class FrameSocket(Protocol):
    """The socket a frame came from, as its handler sees it (`ws.ClientSocket`)."""

    services: Services
    open: bool
    wanted_prefixes: set[str]  # bus topics it is sent, by prefix
    on_close: list[Callable[[], None]]  # cleanups of the features it used
    watcher: Watcher | None  # the conversations it watches, once it watches one

    def send(self, frame: dict[str, Any]) -> bool: ...

    def follow(self, reply: Reply) -> None: ...


Handler = Callable[[FrameSocket, dict[str, Any]], None]


def handler_table(*tables: Mapping[str, Handler]) -> dict[str, Handler]:
    """The features' handler tables as one, each frame type handled once."""
    merged: dict[str, Handler] = {}
    for table in tables:
        for kind, handler in table.items():
            if kind in merged:
                raise ValueError(f"two handlers for frame type {kind!r}")
            merged[kind] = handler
    return merged


def field(frame: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    """A frame's field, checked: missing or ill-typed fields are the client's error."""
    value = frame.get(name)
    if value is None:
        if optional:
            return None
        raise BadRequest(f"`{name}` is required", code="missing_field")
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise BadRequest(f"`{name}` must be a {kind.__name__}", code="invalid_field")
    if kind is str:
        check_text(value, name)
    return value


def check_text(value: str, name: str) -> None:
    """JSON can carry lone surrogates ("\\ud800"), which are not text: refuse them here."""
    if utf8_size(value) is None:
        raise BadRequest(f"`{name}` is not valid Unicode text", code="invalid_text")
