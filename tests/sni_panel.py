"""A StatusNotifierItem panel in miniature, over a private session bus (jeepney).

It does what KDE's or XFCE's panel does with a tray item: it owns the well-known name
org.kde.StatusNotifierWatcher, so AppIndicator registers its item with it instead of
falling back to an XEmbed icon, then reads the item's properties and its
`com.canonical.dbusmenu` layout, and clicks a menu entry with the `Event` a click sends.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Any

from jeepney import DBusAddress, MessageType, new_error, new_method_call, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
PROPERTIES = "org.freedesktop.DBus.Properties"
DBUSMENU = "com.canonical.dbusmenu"


class SessionBus:
    """A dbus-daemon of our own, as `dbus-run-session` would start one."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError(f"dbus-daemon did not start (rc={self.proc.wait()})")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()


class Panel:
    """The watcher and host: records the items that register, and talks to them."""

    def __init__(self, address: str) -> None:
        self._serving = open_dbus_connection(address)
        reply = self._serving.send_and_get_reply(message_bus.RequestName(WATCHER))
        if reply.body[0] != 1:  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
            raise RuntimeError(f"could not own {WATCHER}: {reply.body}")
        self._client = open_dbus_connection(address)
        self.items: list[tuple[str, str]] = []  # (bus name, object path)
        self._registered = threading.Condition()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sni-watcher", daemon=True)
        self._thread.start()

    def wait_for_item(self, timeout: float = 20.0) -> tuple[str, str]:
        with self._registered:
            if not self._registered.wait_for(lambda: self.items, timeout):
                raise TimeoutError("no StatusNotifierItem registered")
            return self.items[0]

    def item_property(self, item: tuple[str, str], name: str) -> Any:
        bus_name, path = item
        address = DBusAddress(path, bus_name=bus_name, interface=PROPERTIES)
        reply = self._call(new_method_call(address, "Get", "ss", (ITEM, name)))
        return reply.body[0][1]  # a variant: (signature, value)

    def menu_layout(self, item: tuple[str, str]) -> dict:
        """The menu as a tree of {"id", "label", "enabled", "children"}."""
        address = self._menu_address(item)
        reply = self._call(new_method_call(address, "GetLayout", "iias", (0, -1, [])))
        return _node(reply.body[1])

    def click(self, item: tuple[str, str], entry_id: int) -> None:
        """What a panel sends when the user clicks a menu entry."""
        address = self._menu_address(item)
        timestamp = int(time.time()) & 0xFFFFFFFF
        event = (entry_id, "clicked", ("i", 0), timestamp)
        self._call(new_method_call(address, "Event", "isvu", event))

    def click_label(self, item: tuple[str, str], label: str, attempts: int = 3) -> None:
        """Click the entry labelled `label`, reading the layout first as a panel does.

        The app rebuilds its menu when the status changes, which renumbers the entries
        (a panel learns that from LayoutUpdated): a click that lands between the read and
        the rebuild is refused, and read again.
        """
        for attempt in range(attempts):
            entry = find_entry(self.menu_layout(item), label)
            try:
                self.click(item, entry["id"])
                return
            except RuntimeError as exc:
                if "does not refer to a menu item" not in str(exc) or attempt == attempts - 1:
                    raise

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self._serving.close()
        self._client.close()

    def _menu_address(self, item: tuple[str, str]) -> DBusAddress:
        menu_path = self.item_property(item, "Menu")
        return DBusAddress(menu_path, bus_name=item[0], interface=DBUSMENU)

    def _call(self, message):
        reply = self._client.send_and_get_reply(message, timeout=10)
        if reply.header.message_type == MessageType.error:
            raise RuntimeError(f"D-Bus error: {reply.body}")
        return reply

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                message = self._serving.receive(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                return
            if message.header.message_type == MessageType.method_call:
                self._serving.send(self._answer(message))

    def _answer(self, message):
        fields = message.header.fields
        interface, member = fields.get(2), fields.get(3)  # INTERFACE, MEMBER
        if interface == WATCHER and member == "RegisterStatusNotifierItem":
            sender, path = fields.get(7), message.body[0]  # SENDER
            if not path.startswith("/"):  # some items send their bus name, not a path
                sender, path = path, "/StatusNotifierItem"
            with self._registered:
                self.items.append((sender, path))
                self._registered.notify_all()
            return new_method_return(message)
        if interface == PROPERTIES and member == "GetAll":
            return new_method_return(message, "a{sv}", (self._watcher_properties(),))
        if interface == PROPERTIES and member == "Get":
            value = self._watcher_properties().get(message.body[1])
            if value is not None:
                return new_method_return(message, "v", (value,))
        return new_error(message, "org.freedesktop.DBus.Error.UnknownMethod")

    def _watcher_properties(self) -> dict[str, tuple[str, Any]]:
        registered = [f"{name}{path}" for name, path in self.items]
        return {
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
            "RegisteredStatusNotifierItems": ("as", registered),
        }


def _node(layout) -> dict:
    entry_id, props, children = layout
    return {
        "id": entry_id,
        "label": props.get("label", ("s", ""))[1],
        "enabled": props.get("enabled", ("b", True))[1],
        "type": props.get("type", ("s", "standard"))[1],
        "children": [_node(child[1]) for child in children],
    }


def find_entry(node: dict, label: str) -> dict:
    """The menu entry whose label is `label` (mnemonic underscores ignored)."""
    if node["label"].replace("_", "") == label.replace("_", ""):
        return node
    for child in node["children"]:
        try:
            return find_entry(child, label)
        except LookupError:
            continue
    raise LookupError(f"no menu entry {label!r}")


def bus_env(bus: SessionBus) -> dict[str, str]:
    return {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus.address}
