"""The tray's menu: the status line, the app's actions and the last few conversations.

pystray reads a callable text, and a callable submenu, each time it builds the native
menu (at start and on `update_menu()`), so the status line and the recent conversations
are whatever the Tray holds then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.desktop.tray_text import APP_TITLE, remote_line, status_line

RECENT_COUNT = 5
MAX_TITLE_CHARS = 40

Guard = Callable[[str, Callable[[], None]], Callable[[Any, Any], None]]


def build_menu(
    actions: Any,
    status: Callable[[], dict],
    recent: Callable[[], list[dict]],
    guard: Guard,
    remote: Callable[[], str] = lambda: "off",
) -> Any:
    """The pystray Menu; `guard(name, callback)` wraps each action for pystray; `remote()`
    is remote access's state (its line is hidden while that is off)."""
    from pystray import Menu, MenuItem  # pystray is imported by now: see tray_backend

    def recent_items():
        conversations = recent()[:RECENT_COUNT]
        if not conversations:
            yield MenuItem("No conversations yet", None, enabled=False)
        for conversation in conversations:
            cid = conversation["id"]
            yield MenuItem(
                menu_title(conversation.get("title")),
                guard("open_conversation", lambda cid=cid: actions.open_conversation(cid)),
            )

    return Menu(
        MenuItem(lambda _item: status_line(status()), None, enabled=False),
        MenuItem(
            lambda _item: remote_line(remote()),
            None,
            enabled=False,
            visible=lambda _item: remote() != "off",
        ),
        Menu.SEPARATOR,
        MenuItem(f"Open {APP_TITLE}", guard("open_window", actions.open_window), default=True),
        MenuItem("New chat", guard("new_chat", actions.new_chat)),
        MenuItem("Recent conversations", Menu(recent_items)),
        Menu.SEPARATOR,
        MenuItem("Reconnect now", guard("reconnect", actions.reconnect)),
        MenuItem("Open data folder", guard("open_data_folder", actions.open_data_folder)),
        Menu.SEPARATOR,
        MenuItem("Quit", guard("quit", actions.quit)),
    )


def menu_title(title: str | None) -> str:
    """A conversation's title on one short line."""
    text = " ".join((title or "Untitled").split()) or "Untitled"
    if len(text) > MAX_TITLE_CHARS:
        text = text[: MAX_TITLE_CHARS - 1] + "…"
    return text
