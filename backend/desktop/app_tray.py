"""The tray as both desktop and web mode use it: the app's quick actions on its icon."""

from __future__ import annotations

from collections.abc import Callable

from backend.core.endpoints.in_use import EndpointInUse, last_used_endpoint
from backend.desktop.platform_open import open_path
from backend.desktop.tray import Tray, TrayActions
from backend.desktop.tray_menu import RECENT_COUNT
from backend.launcher.runtime import Runtime


def start_app_tray(
    runtime: Runtime,
    *,
    open_window: Callable[[], None],
    new_chat: Callable[[], None],
    open_conversation: Callable[[str], None],
    quit: Callable[[], None],
) -> Tray | None:
    """The tray, following the endpoint in use (that of the conversation used last, else
    Ollama's); None where no tray can be shown."""
    services = runtime.services
    in_use = EndpointInUse(
        services.endpoint_service,
        lambda: last_used_endpoint(services.store.list_conversations),
        services.monitor.request_check,
    )
    actions = TrayActions(
        open_window=open_window,
        new_chat=new_chat,
        reconnect=in_use.request_check,
        open_data_folder=lambda: open_path(runtime.settings.data_dir),
        quit=quit,
        open_conversation=open_conversation,
        recent_conversations=lambda: services.store.list_conversations(limit=RECENT_COUNT),
    )
    tray = Tray(services.bus, actions, in_use.status(), status_source=in_use.status)
    return tray if tray.start() else None
