"""The app's long-lived parts, built once from the settings and closed together."""

from __future__ import annotations

from dataclasses import dataclass

from backend.chat import ChatService
from backend.events import EventBus
from backend.monitor import ConnectionMonitor, MonitorConfig
from backend.ollama import OllamaClient
from backend.settings import Settings
from backend.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    bus: EventBus
    monitor: ConnectionMonitor
    chat: ChatService

    def close(self) -> None:
        """Stop replies in flight (their text kept), then the monitor, then the database."""
        self.chat.shutdown()
        self.monitor.stop()
        self.bus.close()
        self.store.close()


def build_services(settings: Settings, *, start_monitor: bool = True) -> Services:
    store = Store(settings.db_path)
    bus = EventBus()
    client = OllamaClient(
        settings.ollama_url,
        connect_timeout=settings.ollama_connect_timeout_s,
        read_timeout=settings.ollama_read_timeout_s,
    )
    monitor = ConnectionMonitor(client, bus, monitor_config_for(settings.ollama_url))
    chat = ChatService(
        store,
        client,
        persist_interval_s=settings.persist_interval_s,
        max_content_bytes=settings.max_content_bytes,
        on_ollama_failure=monitor.request_check,
        publish=bus.publish,
    )
    if start_monitor:
        monitor.start()
    return Services(settings=settings, store=store, bus=bus, monitor=monitor, chat=chat)


def monitor_config_for(ollama_url: str) -> MonitorConfig:
    """Loopback Ollama answers in milliseconds; one across a network gets more patience."""
    local = any(h in ollama_url for h in ("://127.", "://localhost", "://[::1]"))
    return MonitorConfig.local() if local else MonitorConfig.remote()
